//! Process inspection on Linux, from `/proc`.

use std::io;
use std::time::Duration;

use crate::stats::{ProcInfo, ProcessState};

/// The kernel's boot id: changes at every boot.
pub fn boot_id() -> io::Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?.trim().to_string())
}

/// What `/proc/<pid>/stat` says about `pid`, or `None` if there is no such process.
pub fn process_info(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat)
}

/// Parses a `/proc/<pid>/stat` line. The command name may hold spaces and parentheses, so the
/// fields are taken after the last `") "`.
pub(crate) fn parse_stat(pid: u32, stat: &str) -> Option<ProcInfo> {
    let rest = &stat[stat.rfind(") ")? + 2..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After the command: state(0) ppid(1) pgrp(2) session(3) tty(4) tpgid(5) flags(6)
    // minflt(7) cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12) cutime(13) cstime(14)
    // priority(15) nice(16) threads(17) itrealvalue(18) starttime(19) vsize(20) rss(21)
    let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let ticks = clock_ticks();
    let cpu_ticks = num(11)? + num(12)?;
    Some(ProcInfo {
        pid,
        ppid: u32::try_from(num(1)?).ok()?,
        pgid: u32::try_from(num(2)?).ok()?,
        start_time: num(19)?,
        state: ProcessState::from_code(fields.first()?.chars().next()?),
        cpu_time: Duration::from_micros(cpu_ticks.saturating_mul(1_000_000) / ticks.max(1)),
        rss_bytes: num(21)?.saturating_mul(page_size()),
    })
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).unwrap_or(100)
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// Every pid on the system.
pub fn all_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect()
}

/// Whether `pid`'s environment holds `TEND_RUN_ID=<token>`. Processes of other users cannot be
/// read and never match.
pub fn has_token(pid: u32, token: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else { return false };
    let wanted = format!("{}={token}", crate::RUN_ID_VAR);
    environ.split(|&b| b == 0).any(|entry| entry == wanted.as_bytes())
}

/// The values of `keys` in `pid`'s environment, in order (`None` when unset, or when the
/// environment cannot be read: processes of other users).
pub fn env_values(pid: u32, keys: &[&str]) -> Vec<Option<String>> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    keys.iter()
        .map(|key| {
            environ.split(|&b| b == 0).find_map(|entry| {
                let value = entry.strip_prefix(key.as_bytes())?.strip_prefix(b"=")?;
                Some(String::from_utf8_lossy(value).into_owned())
            })
        })
        .collect()
}

/// The pids of `pid`'s children, from `/proc/<pid>/task/*/children`; `None` when the kernel
/// cannot list them (no `CONFIG_PROC_CHILDREN`) or `pid` is gone.
pub fn children_of(pid: u32) -> Option<Vec<u32>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut children = Vec::new();
    let mut readable = false;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            readable = true;
            children.extend(text.split_ascii_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    readable.then(|| {
        children.sort_unstable();
        children.dedup();
        children
    })
}

/// The pids of this process's children (including orphans adopted as a subreaper).
pub fn own_children() -> Vec<u32> {
    let me = std::process::id();
    children_of(me).unwrap_or_else(|| {
        // Kernels without CONFIG_PROC_CHILDREN: scan by parentage.
        all_pids()
            .into_iter()
            .filter(|&pid| process_info(pid).is_some_and(|info| info.ppid == me))
            .collect()
    })
}

/// Makes this process the reaper of orphaned descendants (`PR_SET_CHILD_SUBREAPER`).
pub fn set_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// Resolves when `pid` has ended (or at once if it is gone), using a pidfd: no polling.
pub async fn exited(pid: u32) {
    use std::os::fd::{FromRawFd as _, OwnedFd};
    let Ok(raw) = i32::try_from(pid) else { return };
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
    let Ok(fd) = i32::try_from(fd) else { return };
    if fd < 0 {
        // ESRCH: already gone. Anything else (an old kernel): fall back to polling.
        if io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH) {
            super::poll_exited(pid).await;
        }
        return;
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the AsyncFd owns `fd`, which stays open and the same until it is dropped.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    match registered {
        Ok(async_fd) => {
            let _ = async_fd.readable().await;
        }
        Err(_) => super::poll_exited(pid).await,
    }
}

/// The uid and gid of this process: the Docker environment runs its container as this user by
/// default on Linux, so files written to mounts stay the user's.
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
pub(crate) fn current_user_ids() -> Option<(u32, u32)> {
    Some((nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let line = "1234 (we ird) (name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5555 1000 25 18446744073709551615";
        let info = parse_stat(1234, line).unwrap();
        assert_eq!(info.ppid, 1);
        assert_eq!(info.pgid, 1234);
        assert_eq!(info.start_time, 5555);
        assert_eq!(info.state, ProcessState::Sleeping);
        assert_eq!(info.rss_bytes, 25 * page_size());
    }

    #[test]
    fn sees_itself() {
        let info = process_info(std::process::id()).unwrap();
        assert!(info.start_time > 0);
        assert!(boot_id().unwrap().len() > 8);
    }
}
