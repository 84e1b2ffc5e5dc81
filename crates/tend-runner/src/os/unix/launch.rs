//! Starting a program on Unix: its own process group, the run record written by the forked
//! child before `exec`, the descriptor limit tend was started with, larger pipes.

use std::os::fd::AsRawFd as _;

use super::child_record::ChildRecord;
use crate::os::{self, Launched};
use crate::records::{RunRecord, RunRegistry};
use crate::{Exit, RunnerError, tree};

/// Spawns `cmd` as the leader of a new process group. With a `record` for a registry, the
/// forked child writes it (completed with its pid and start time) before `exec`, and the
/// program never runs unless it is on disk.
pub(crate) async fn launch(
    mut cmd: tokio::process::Command,
    program: &str,
    record: Option<(&RunRegistry, RunRecord)>,
) -> Result<Launched, RunnerError> {
    cmd.process_group(0);
    let registry_dir = record.as_ref().map(|(registry, _)| registry.dir());
    if let Some((registry, record)) = &record {
        let dir = registry.dir();
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
                let _ = os::set_fd_limit(original);
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
    if let Some(dir) = registry_dir
        && !dir.join(format!("{pid}.json")).exists()
    {
        // The child could not write its record and exited without running the program, with
        // the OS error number as its exit code.
        let errno = child.wait().await.ok().and_then(|status| status.code());
        tree::disown(pid);
        return Err(RunnerError::StartFailed(record_failure(dir, errno)));
    }
    if let Some(out) = &child.stdout {
        os::widen_pipe(out.as_raw_fd());
    }
    if let Some(err) = &child.stderr {
        os::widen_pipe(err.as_raw_fd());
    }
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let wait = Box::pin(async move {
        match child.wait().await {
            Ok(status) => Exit::from(status),
            Err(_) => Exit::Code(-1),
        }
    });
    Ok(Launched { pid, start_time, stdin, stdout, stderr, wait, kill: None })
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
