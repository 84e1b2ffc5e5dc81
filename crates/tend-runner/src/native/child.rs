//! A run on this machine, once started: waiting on it and stopping its whole tree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use super::spawn::DRAIN;
use crate::tree::{self, Tree};
use crate::{
    BoxFuture, Child, ChildId, Exit, ProcInfo, RecordSpec, RunnerError, StopPolicy, StopReport,
};

/// What a run's handle and the task that waits for its leader share.
pub(super) struct Shared {
    /// `None` while the leader runs, then how it ended (once its run is over).
    pub(super) end: watch::Sender<Option<Exit>>,
    pub(super) stop_requested: AtomicBool,
    /// Set once the leader is reaped: from then on its pid may be reused, so the group id must
    /// no longer be signalled as a whole.
    pub(super) reaped: AtomicBool,
    pub(super) tree: Tree,
    /// Asks the waiter to end the leader where signals cannot (Windows: its job object).
    pub(super) kill: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    pub(super) record: Option<RecordSpec>,
    pub(super) policy: StopPolicy,
}

impl Shared {
    /// Removes the run record of group `pgid`, if there is one.
    pub(super) fn remove_record(&self, pgid: u32) {
        if let Some(spec) = &self.record
            && let Err(e) = spec.registry.remove(pgid)
        {
            tracing::warn!("{e}");
        }
    }
}

/// A started native run: a process group led by `pid` (see [`ChildId::Group`]).
pub(super) struct NativeChild {
    pub(super) id: ChildId,
    pub(super) pid: u32,
    pub(super) shared: Arc<Shared>,
}

impl std::fmt::Debug for NativeChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeChild")
            .field("id", &self.id)
            .field("end", &*self.shared.end.borrow())
            .finish()
    }
}

impl NativeChild {
    fn running(&self) -> bool {
        self.shared.end.borrow().is_none()
    }

    async fn wait_end(&self) -> Result<Exit, RunnerError> {
        let mut rx = self.shared.end.subscribe();
        // The sender lives in `shared`, which `self` holds: the wait cannot lose it.
        match rx.wait_for(Option::is_some).await.map(|end| *end) {
            Ok(Some(end)) => Ok(end),
            _ => Err(RunnerError::StartFailed("process handle dropped".into())),
        }
    }

    /// Stops the whole process tree: the stop signal to the group and to every descendant that
    /// left it, the grace period, then SIGKILL; then waits for the leader to be reaped.
    async fn stop_tree(&self) -> StopReport {
        let shared = &self.shared;
        shared.stop_requested.store(true, Ordering::SeqCst);
        if let Some(end) = *shared.end.borrow() {
            return StopReport { end: Some(end), killed: 0, survivors: Vec::new() };
        }
        let policy = shared.policy;
        if let Some(kill) = &shared.kill {
            let _ = kill.send(());
        }
        // Signal the group as a whole only while the leader is unreaped (its id is then ours).
        let group_signal = !shared.reaped.load(Ordering::SeqCst);
        let outcome = shared.tree.terminate(policy.signal, policy.grace, group_signal).await;
        let end = tokio::time::timeout(tree::KILL_WAIT + DRAIN, self.wait_end())
            .await
            .ok()
            .and_then(Result::ok);
        if outcome.survivors.is_empty() {
            shared.remove_record(self.pid);
        } else {
            let pid = self.pid;
            tracing::error!(pid, survivors = ?outcome.survivors, "processes survived SIGKILL");
        }
        StopReport { end, killed: outcome.killed, survivors: outcome.survivors }
    }
}

impl Child for NativeChild {
    fn id(&self) -> &ChildId {
        &self.id
    }

    fn pid(&self) -> Option<u32> {
        self.running().then_some(self.pid)
    }

    fn wait(&self) -> BoxFuture<'_, Result<Exit, RunnerError>> {
        Box::pin(self.wait_end())
    }

    fn stop(&self) -> BoxFuture<'_, Result<StopReport, RunnerError>> {
        Box::pin(async move { Ok(self.stop_tree().await) })
    }

    fn stats(&self) -> BoxFuture<'_, Option<ProcInfo>> {
        Box::pin(async move { self.pid().and_then(crate::process_stats) })
    }
}
