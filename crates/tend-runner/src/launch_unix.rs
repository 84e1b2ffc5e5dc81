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
                if !writer.write_in_child() {
                    let msg = b"tend: cannot write the run record; the program was not started\n";
                    libc::write(2, msg.as_ptr().cast(), msg.len());
                    libc::_exit(125);
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
        // The child could not write its record and exited 125 without running the program.
        let _ = child.wait().await;
        tree::disown(pid);
        return Err(RunnerError::StartFailed("the run record could not be written".into()));
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
