//! A run in the container, once started: waiting on it and stopping its whole tree there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::Docker;
use tokio::sync::watch;

use super::{oneshot, scripts};
use crate::{BoxFuture, Child, ChildId, Exit, ProcInfo, RunnerError, StopPolicy, StopReport};

/// How long the stop script may take beyond the grace (its SIGKILL round and the exec's own
/// round trips).
const STOP_SLACK: Duration = Duration::from_secs(10);

/// How long the end of a run may take to be known after its tree was killed.
const END_WAIT: Duration = Duration::from_secs(5);

/// How an exec's exit code reads as an [`Exit`].
///
/// The daemon reports a process killed by signal N as exit code 128 + N (containerd's
/// convention); the wait status itself never leaves the container. So codes 129–192 (128 + a
/// signal number 1–64) are read as [`Exit::Signal`], everything else as [`Exit::Code`]. A
/// program that itself exits with 129–192 therefore reads as a signal death, as in `docker` and
/// Kubernetes; the restart table treats both alike (a crash), and 42 is never ambiguous.
///
/// ```
/// # use tend_runner::{Exit, docker_exit};
/// assert_eq!(docker_exit(Some(42)), Exit::Code(42));
/// assert_eq!(docker_exit(Some(137)), Exit::Signal(9));
/// assert_eq!(docker_exit(Some(255)), Exit::Code(255));
/// assert_eq!(docker_exit(None), Exit::Code(-1));
/// ```
pub fn exit_of(code: Option<i64>) -> Exit {
    match code {
        Some(code @ 129..=192) => Exit::Signal((code - 128) as i32),
        Some(code) => Exit::Code(i32::try_from(code).unwrap_or(-1)),
        None => Exit::Code(-1),
    }
}

/// What a run's handle and the task that waits for it share.
pub(super) struct Shared {
    pub(super) docker: Docker,
    pub(super) container: String,
    pub(super) user: Option<String>,
    /// The program's pid inside the container: the id of its process group there.
    pub(super) pgid: u32,
    pub(super) token: String,
    pub(super) policy: StopPolicy,
    /// `None` while it runs, then how it ended (once its run is over).
    pub(super) end: watch::Sender<Option<Exit>>,
    pub(super) stop_requested: AtomicBool,
}

impl Shared {
    /// Runs the stop script: the stop signal to the group (as a whole while `whole`: the
    /// leader is still ours) and to every carrier of the token, the grace, SIGKILL.
    pub(super) async fn end_tree(&self, whole: bool) -> (usize, Vec<u32>) {
        let argv = scripts::stop(self.policy.signal.number(), self.policy.grace, self.pgid, whole);
        let env = vec![format!("TEND_STOP_TOKEN={}", self.token)];
        let limit = self.policy.grace + STOP_SLACK;
        match oneshot::run(&self.docker, &self.container, argv, env, self.user.as_deref(), limit)
            .await
        {
            Ok((out, _)) => scripts::parse_stop(&out),
            Err(e) => {
                tracing::error!(container = %self.container, pgid = self.pgid, "stopping a run in the container: {e}");
                (0, vec![self.pgid])
            }
        }
    }
}

/// A started run in the container (see [`ChildId::Exec`]).
pub(super) struct DockerChild {
    pub(super) id: ChildId,
    /// The program's pid on this machine, when the daemon said.
    pub(super) host_pid: Option<u32>,
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for DockerChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerChild")
            .field("id", &self.id)
            .field("pgid", &self.shared.pgid)
            .field("end", &*self.shared.end.borrow())
            .finish()
    }
}

impl DockerChild {
    async fn wait_end(&self) -> Result<Exit, RunnerError> {
        let mut rx = self.shared.end.subscribe();
        match rx.wait_for(Option::is_some).await.map(|end| *end) {
            Ok(Some(end)) => Ok(end),
            _ => Err(RunnerError::StartFailed("run handle dropped".into())),
        }
    }

    async fn stop_tree(&self) -> StopReport {
        let shared = &self.shared;
        shared.stop_requested.store(true, Ordering::SeqCst);
        if let Some(end) = *shared.end.borrow() {
            return StopReport { end: Some(end), killed: 0, survivors: Vec::new() };
        }
        let (killed, survivors) = shared.end_tree(true).await;
        let end = tokio::time::timeout(END_WAIT, self.wait_end()).await.ok().and_then(Result::ok);
        if !survivors.is_empty() {
            tracing::error!(container = %shared.container, pgid = shared.pgid, ?survivors, "processes in the container survived SIGKILL");
        }
        StopReport { end, killed, survivors }
    }
}

impl Child for DockerChild {
    fn id(&self) -> &ChildId {
        &self.id
    }

    fn pid(&self) -> Option<u32> {
        self.host_pid.filter(|_| self.shared.end.borrow().is_none())
    }

    fn wait(&self) -> BoxFuture<'_, Result<Exit, RunnerError>> {
        Box::pin(self.wait_end())
    }

    fn stop(&self) -> BoxFuture<'_, Result<StopReport, RunnerError>> {
        Box::pin(async move { Ok(self.stop_tree().await) })
    }

    fn stats(&self) -> BoxFuture<'_, Option<ProcInfo>> {
        // Inside a container the program's process is not ours to inspect portably (the daemon
        // may run elsewhere, or in another pid namespace): no stats for now.
        Box::pin(async { None })
    }
}
