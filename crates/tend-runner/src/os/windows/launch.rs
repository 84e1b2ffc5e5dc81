//! Starting a program on Windows: in a job object of its own (through `process-wrap`), so
//! that ending the job ends every process the program started.
//!
//! There are no signals: a stop terminates the job at once. The run record is written by
//! tend right after the spawn (the job-object wrapper starts the process suspended and
//! resumes it once it is in the job; there is no window between fork and exec to use).
//! Type-checked on Linux against the Windows target; not yet run on Windows.

use process_wrap::tokio::{CommandWrap, JobObject, KillOnDrop};

use crate::os::{self, Launched};
use crate::records::{RunRecord, RunRegistry};
use crate::{Exit, RunnerError, tree};

/// Spawns `cmd` in a new job object and records it in `record`'s registry.
pub(crate) async fn launch(
    cmd: tokio::process::Command,
    program: &str,
    record: Option<(&RunRegistry, RunRecord)>,
) -> Result<Launched, RunnerError> {
    let mut wrap = CommandWrap::from(cmd);
    wrap.wrap(JobObject).wrap(KillOnDrop);
    let mut child = tree::spawn_owned(|| wrap.spawn(), |c| c.id())
        .map_err(|source| RunnerError::Spawn { program: program.to_string(), source })?;
    let Some(pid) = child.id() else {
        return Err(RunnerError::StartFailed("the process vanished at spawn".into()));
    };
    let start_time = os::process_info(pid).map(|i| i.start_time).unwrap_or(0);
    if let Some((registry, mut record)) = record {
        record.pgid = pid;
        record.pid = pid;
        record.start_time = start_time;
        if let Err(e) = registry.write(&record) {
            let _ = child.start_kill();
            let _ = child.wait().await;
            tree::disown(pid);
            return Err(e);
        }
    }
    let (stdin, stdout, stderr) =
        (child.stdin().take(), child.stdout().take(), child.stderr().take());
    let (kill_tx, mut kill_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let wait = Box::pin(async move {
        loop {
            let kill = tokio::select! {
                status = child.wait() => {
                    break match status {
                        Ok(status) => Exit::from(status),
                        Err(_) => Exit::Code(-1),
                    };
                }
                Some(()) = kill_rx.recv() => true,
            };
            if kill {
                let _ = child.start_kill();
            }
        }
        // Dropping `child` (KillOnDrop) terminates the job: nothing outlives the leader.
    });
    Ok(Launched { pid, start_time, stdin, stdout, stderr, wait, kill: Some(kill_tx) })
}
