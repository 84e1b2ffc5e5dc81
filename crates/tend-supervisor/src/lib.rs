//! Keeps programs alive: restart policy, backoff, the restart-exit-code protocol, the crash-loop
//! guard, and events about it all.
//!
//! A [`Supervisor`] runs one task per program. Each program is started through a [`Launcher`]
//! (the seam to real processes: `tend-runner`'s process type is adapted to it, tests use fakes),
//! and driven through a cloneable [`ProgramHandle`] with systemctl-like verbs: `start`, `stop`,
//! `restart`. What happens is reported as [`Event`]s.
//!
//! The set of programs can change while it runs (a config reload): [`Supervisor::remove`]
//! stops a program and drops it, [`ProgramHandle::replace`] swaps a program's launcher and
//! policy (followed by a `restart` with [`RestartReason::ConfigChange`] to run the new spec),
//! and a [`Hold`] keeps [`Supervisor::wait_idle`] from mistaking such a batch of changes for
//! the end.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use tend_supervisor::{
//!     BoxFuture, EventKind, Exit, LaunchContext, LaunchError, Launcher, Policy, ProgramSpec,
//!     ProgramState, Running, Supervisor,
//! };
//!
//! /// A "program" whose runs end at once with exit code 0.
//! struct Instant0;
//! struct Ended;
//!
//! impl Launcher for Instant0 {
//!     fn launch(&self, _: LaunchContext) -> BoxFuture<'_, Result<Box<dyn Running>, LaunchError>> {
//!         Box::pin(async { Ok(Box::new(Ended) as Box<dyn Running>) })
//!     }
//! }
//!
//! impl Running for Ended {
//!     fn pid(&self) -> Option<u32> { None }
//!     fn wait(&self) -> BoxFuture<'_, Exit> { Box::pin(async { Exit::Code(0) }) }
//!     fn stop(&self) -> BoxFuture<'_, Exit> { Box::pin(async { Exit::Code(0) }) }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     let (supervisor, mut events) = Supervisor::new();
//!     let spec = ProgramSpec {
//!         name: "hello".into(),
//!         policy: Policy::default(), // restart = "on-failure": exit 0 means done
//!         launcher: Arc::new(Instant0),
//!     };
//!     supervisor.add(spec);
//!     // `tend up` returns once nothing runs or is scheduled.
//!     let finals = supervisor.wait_idle().await;
//!     assert_eq!(finals[0].state, ProgramState::Done);
//!     let mut kinds = Vec::new();
//!     while let Ok(event) = events.try_recv() {
//!         kinds.push(event.kind);
//!     }
//!     assert!(matches!(kinds.last(), Some(EventKind::Done { exit: Exit::Code(0) })));
//! }
//! ```
//!
//! # Theory of operation
//!
//! Policy is separate from mechanism.
//!
//! - **Policy** ([`decide`], [`decide_spawn_failure`], [`Backoff`], [`DeathTally`]) is pure: no
//!   I/O, no clock reads. Every end of a run is appended to a bounded death tally (time, uptime,
//!   exit, kind), after s6's `dtally`. What happens next is a function of the [`Policy`], the
//!   tally and the end: exit 0 is done (restarted after the backoff delay only with
//!   `restart = "always"`); the restart exit code (42) restarts at once, uncounted; anything
//!   else is a crash, restarted after `initial × factor^n` (capped at `max`, `n` counting the
//!   crashes since the last run that stayed up `reset_after`), unless more than
//!   `max_restarts.count` crashes fell within `max_restarts.within`: then the program is fatal.
//! - **Mechanism** is one Tokio task per program. Its state machine is pure too
//!   (`machine.rs`: an exhaustive `match (phase, input)` returning actions); the task only
//!   waits for the next input (the run's exit, a verb, the backoff timer), feeds it in, and
//!   carries out the actions: emit an event, launch a run, stop a run. A program that waits on
//!   a run or a verb has no timer armed; the only timer is the backoff delay, and a verb
//!   interrupts it.
//!
//! A spawn failure at a program's first start (or first start by hand) is fatal at once: a
//! missing binary will not fix itself. A spawn failure on a later restart counts as a crash.
//!
//! `restart_count` ([`LaunchContext::restart_count`], `TEND_RESTART_COUNT`) counts every launch
//! before this one, whatever its reason. A start by hand after stop, done or fatal begins with
//! an empty tally (a fresh crash budget and backoff) but keeps counting restarts.
//!
//! # Caveats
//!
//! - The restart exit code restarts with no delay at all: a program that exits 42 at once, over
//!   and over, is restarted in a tight loop.
//! - [`Supervisor::add`] must be called inside a Tokio runtime. If the runtime shuts down, the
//!   tasks are dropped with the runs they hold: the [`Running`] implementation must then not
//!   leave processes behind (the real one kills its process group on drop).
//! - Events are best effort: if the [`EventReceiver`] is dropped, supervision goes on and the
//!   events are discarded.
//! - A launch or a graceful stop holds up its program's task until it resolves: verbs sent
//!   meanwhile wait their turn.

mod backoff;
mod error;
mod event;
mod launcher;
mod machine;
mod policy;
mod program;
mod supervisor;
mod tally;

pub use backoff::{Backoff, BackoffIter};
pub use error::{ParseError, SupervisorError};
pub use event::{Event, EventKind, EventReceiver};
pub use launcher::{BoxFuture, LaunchContext, LaunchError, Launcher, Running};
pub use machine::Cause;
pub use policy::{
    Decision, MaxRestarts, Policy, RestartPolicy, RestartReason, classify, decide,
    decide_spawn_failure,
};
pub use program::{ProgramHandle, ProgramSpec, ProgramState, Snapshot};
pub use supervisor::{Hold, Supervisor};
pub use tally::{Death, DeathKind, DeathTally};
pub use tend_runner::Exit;
