//! The supervisor: the set of programs, in the order they were added.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::event::{Event, EventReceiver};
use crate::program::{self, ProgramHandle, ProgramSpec, Snapshot};

/// Supervises programs, one task each. Cheap to clone; every clone is the same supervisor.
///
/// When the supervisor and every [`ProgramHandle`] are dropped, each program is stopped
/// gracefully by its task.
#[derive(Debug, Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    programs: Mutex<Vec<ProgramHandle>>,
    events: mpsc::UnboundedSender<Event>,
    /// Time zero of every program's tally.
    epoch: Instant,
}

impl Supervisor {
    /// An empty supervisor, and the receiver of its events.
    pub fn new() -> (Supervisor, EventReceiver) {
        let (events, receiver) = mpsc::unbounded_channel();
        let inner = Inner { programs: Mutex::new(Vec::new()), events, epoch: Instant::now() };
        (Supervisor { inner: Arc::new(inner) }, receiver)
    }

    /// Adds a program and starts it at once. Names should be unique: [`program`](Self::program)
    /// finds the first program of a name.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (the program's task is spawned on the current one).
    pub fn add(&self, spec: ProgramSpec) -> ProgramHandle {
        let handle = program::spawn(spec, self.inner.events.clone(), self.inner.epoch);
        self.lock().push(handle.clone());
        handle
    }

    /// The program called `name`.
    pub fn program(&self, name: &str) -> Option<ProgramHandle> {
        self.lock().iter().find(|p| p.name() == name).cloned()
    }

    /// Every program, in the order they were added.
    pub fn programs(&self) -> Vec<ProgramHandle> {
        self.lock().clone()
    }

    /// Every program's state now, in the order they were added.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        self.lock().iter().map(ProgramHandle::snapshot).collect()
    }

    /// Stops every program gracefully, one after the other, in reverse order of addition,
    /// each stop finished before the next begins.
    pub async fn stop_all(&self) {
        for program in self.programs().iter().rev() {
            if let Err(error) = program.stop().await {
                // A program whose task is gone runs nothing any more.
                tracing::debug!(%error, "stopping all");
            }
        }
    }

    /// Resolves when no program runs or is scheduled to (each one is stopped, done or fatal),
    /// with every program's final snapshot in the order they were added; at once if there is no
    /// program. A program leaves those states only by a verb.
    pub async fn wait_idle(&self) -> Vec<Snapshot> {
        loop {
            let programs = self.programs();
            for program in &programs {
                program.wait_idle().await;
            }
            // Another program may have been added, or one started again, meanwhile.
            let snapshots = self.snapshots();
            if snapshots.len() == programs.len() && snapshots.iter().all(|s| s.state.is_idle()) {
                return snapshots;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ProgramHandle>> {
        // The list stays consistent whatever a panicking holder did: pushes are atomic.
        self.inner.programs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
