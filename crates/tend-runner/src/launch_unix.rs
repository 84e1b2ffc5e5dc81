//! Starting a program on Unix: its own process group, the run record written by the forked
//! child before `exec`, the descriptor limit tend was started with, larger pipes.

use std::os::fd::AsRawFd as _;

use crate::child_record::ChildRecord;
use crate::proc::Launched;
use crate::records::RunRecord;
use crate::{Exit, ProcHandle, RunnerError, os, sys, tree};

/// Spawns `cmd` as the leader of a new process group. With `record`, the forked child writes
/// it (completed with its pid and start time) before `exec`, and the program never runs
/// unless it is on disk.
pub(crate) async fn launch(
    mut cmd: tokio::process::Command,
    program: &str,
    handle: &ProcHandle,
    record: Option<RunRecord>,
) -> Result<Launched, RunnerError> {
    cmd.process_group(0);
    let registry_dir = handle.shared.record.as_ref().map(|spec| spec.registry.dir().to_path_buf());
    if let (Some(dir), Some(record)) = (&registry_dir, &record) {
        crate::records::create_private_dir(dir)?;
        let writer = ChildRecord::new(dir, record)?;
        // SAFETY: the closure runs in the forked child before exec and makes only
        // async-signal-safe calls without allocating (see `ChildRecord::write_in_child`).
        unsafe {
            cmd.pre_exec(move || {
                if let Err(errno) = writer.write_in_child() {
                    let msg = b"tend: cannot write the run record; the program was not started\n";
                    libc::write(2, msg.as_ptr().cast(), msg.len());
                    // The exit code carries the reason to the parent (errno values fit).
                    libc::_exit(errno.clamp(1, 255));
                }
                Ok(())
            });
        }
    }
    if let Some(original) = crate::fd_limit::for_children() {
        // SAFETY: the closure runs in the forked child before exec and makes one
        // async-signal-safe call (setrlimit) without allocating.
        unsafe {
            cmd.pre_exec(move || {
                // The program gets the descriptor limit tend was started with, not tend's own.
                let _ = sys::set_fd_limit(original);
                Ok(())
            });
        }
    }
    let mut child = tree::spawn_owned(|| cmd.spawn(), tokio::process::Child::id)
        .map_err(|source| RunnerError::Spawn { program: program.to_string(), source })?;
    let Some(pid) = child.id() else {
        return Err(RunnerError::StartFailed("the process vanished at spawn".into()));
    };
    let start_time = os::process_info(pid).map(|i| i.start_time).unwrap_or(0);
    if let Some(dir) = &registry_dir
        && record.is_some()
        && !dir.join(format!("{pid}.json")).exists()
    {
        // The child could not write its record and exited without running the program, with
        // the OS error number as its exit code.
        let errno = child.wait().await.ok().and_then(|status| status.code());
        tree::disown(pid);
        return Err(RunnerError::StartFailed(record_failure(dir, errno)));
    }
    if let Some(out) = &child.stdout {
        sys::widen_pipe(out.as_raw_fd());
    }
    if let Some(err) = &child.stderr {
        sys::widen_pipe(err.as_raw_fd());
    }
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let wait = Box::pin(async move {
        match child.wait().await {
            Ok(status) => Exit::from(status),
            Err(_) => Exit::Code(-1),
        }
    });
    Ok(Launched { pid, start_time, stdin, stdout, stderr, wait })
}

/// Why the run record in `dir` could not be written, from the OS error number the child
/// exited with: `cannot write the run record in /…/runs: ENOSPC: No space left on device`.
fn record_failure(dir: &std::path::Path, errno: Option<i32>) -> String {
    let reason = match errno.map(nix::errno::Errno::from_raw) {
        Some(errno) if errno != nix::errno::Errno::UnknownErrno => errno.to_string(),
        _ => "unknown error".to_owned(),
    };
    format!("cannot write the run record in {}: {reason}", dir.display())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_record_failure_names_the_os_reason_and_the_folder() {
        let dir = std::path::Path::new("/home/u/.tend/apps/a/runs");
        assert_eq!(
            super::record_failure(dir, Some(libc::ENOSPC)),
            "cannot write the run record in /home/u/.tend/apps/a/runs: ENOSPC: No space left on device"
        );
        assert_eq!(
            super::record_failure(dir, None),
            "cannot write the run record in /home/u/.tend/apps/a/runs: unknown error"
        );
    }
}
