//! The supervisor: the set of programs, in the order they were added.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::error::SupervisorError;
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
    /// Set by [`Supervisor::stop_all`]; read and set under the `programs` lock.
    stopping: std::sync::atomic::AtomicBool,
    /// How many [`Hold`]s are alive.
    holds: watch::Sender<usize>,
}

impl Supervisor {
    /// An empty supervisor, and the receiver of its events.
    pub fn new() -> (Supervisor, EventReceiver) {
        let (events, receiver) = mpsc::unbounded_channel();
        let inner = Inner {
            programs: Mutex::new(Vec::new()),
            events,
            epoch: Instant::now(),
            holds: watch::Sender::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
        };
        (Supervisor { inner: Arc::new(inner) }, receiver)
    }

    /// Adds a program and starts it at once; once [`stop_all`](Self::stop_all) has begun, adds
    /// it stopped instead (the app is on its way out). Names should be unique:
    /// [`program`](Self::program) finds the first program of a name.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (the program's task is spawned on the current one).
    pub fn add(&self, spec: ProgramSpec) -> ProgramHandle {
        let mut programs = self.lock();
        let start = !self.is_stopping();
        let handle = program::spawn(spec, self.inner.events.clone(), self.inner.epoch, start);
        programs.push(handle.clone());
        handle
    }

    /// Adds a program stopped: it is listed (in [`snapshots`](Self::snapshots) and by
    /// [`programs`](Self::programs)) but nothing runs until [`start`](Self::start). An app
    /// adds every program this way first, so that its status lists them all from the start,
    /// then starts them one after the other.
    pub fn add_stopped(&self, spec: ProgramSpec) -> ProgramHandle {
        let mut programs = self.lock();
        let handle = program::spawn(spec, self.inner.events.clone(), self.inner.epoch, false);
        programs.push(handle.clone());
        handle
    }

    /// Starts `program` (as [`ProgramHandle::start`]) unless [`stop_all`](Self::stop_all) has
    /// begun; resolves once its first launch is done (spawned, or failed to), with whether it
    /// was started. Race-free with `stop_all`: a start asked for before it is stopped by it.
    pub async fn start(&self, program: &ProgramHandle) -> bool {
        let started = {
            let _programs = self.lock();
            if self.is_stopping() {
                return false;
            }
            // Queued now, under the lock: `stop_all`'s stop comes after it.
            program.start()
        };
        started.await.is_ok()
    }

    /// Whether [`stop_all`](Self::stop_all) has begun.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Removes the program called `name`: stops it gracefully (as [`ProgramHandle::stop`]),
    /// then drops it from the list, and resolves with its final snapshot; with `None` at once
    /// if there is no such program. Its task ends once the last clone of its handle is dropped
    /// (the supervisor holds none any more).
    ///
    /// # Errors
    ///
    /// [`SupervisorError::Gone`] if its task was already gone (its runtime shut down); it is
    /// removed all the same.
    pub async fn remove(&self, name: &str) -> Result<Option<Snapshot>, SupervisorError> {
        let Some(handle) = self.program(name) else {
            return Ok(None);
        };
        let stopped = handle.stop().await;
        self.lock().retain(|p| !p.same_program(&handle));
        stopped?;
        Ok(Some(handle.snapshot()))
    }

    /// Keeps [`wait_idle`](Self::wait_idle) from resolving while the returned guard lives, for
    /// a batch of changes that passes through "nothing runs" (stop one program, then add
    /// another): the app is not idle meanwhile. Guards nest; dropping the last one lets
    /// `wait_idle` look again.
    pub fn hold(&self) -> Hold {
        self.inner.holds.send_modify(|n| *n = n.saturating_add(1));
        Hold { inner: Arc::clone(&self.inner) }
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

    /// Stops every program gracefully, all in one wave: each gets its stop signal at once
    /// (queued in reverse order of addition), and this resolves when every one has stopped.
    /// No program depends on another yet (`depends_on` does not exist), so none has to wait
    /// for another to be gone. Programs added from then on are added stopped.
    pub async fn stop_all(&self) {
        let programs = {
            let programs = self.lock();
            self.inner.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            programs.clone()
        };
        // Each verb queues its command when called: every stop is under way before the first
        // is awaited.
        let stops: Vec<_> = programs.iter().rev().map(ProgramHandle::stop).collect();
        for stop in stops {
            if let Err(error) = stop.await {
                // A program whose task is gone runs nothing any more.
                tracing::debug!(%error, "stopping all");
            }
        }
    }

    /// Resolves when no program runs or is scheduled to (each one is stopped, done or fatal),
    /// with every program's final snapshot in the order they were added; at once if there is no
    /// program. A program leaves those states only by a verb. Never while a [`Hold`] lives.
    pub async fn wait_idle(&self) -> Vec<Snapshot> {
        let mut holds = self.inner.holds.subscribe();
        loop {
            // The sender lives as long as `self`: this cannot fail.
            let _ = holds.wait_for(|n| *n == 0).await;
            let programs = self.programs();
            for program in &programs {
                program.wait_idle().await;
            }
            // Another program may have been added, or one started again, meanwhile.
            let snapshots = self.snapshots();
            let held = *holds.borrow_and_update() > 0;
            if !held
                && snapshots.len() == programs.len()
                && snapshots.iter().all(|s| s.state.is_idle())
            {
                return snapshots;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ProgramHandle>> {
        // The list stays consistent whatever a panicking holder did: pushes are atomic.
        self.inner.programs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps [`Supervisor::wait_idle`] from resolving while it lives; see [`Supervisor::hold`].
#[derive(Debug)]
#[must_use = "the hold ends when the guard is dropped"]
pub struct Hold {
    inner: Arc<Inner>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.inner.holds.send_modify(|n| *n = n.saturating_sub(1));
    }
}
