//! Where and how a tend process runs.
//!
//! - [`Environment`] and [`NativeEnvironment`]: somewhere to run processes (Docker and Nix
//!   environments implement the same surface).
//! - [`Proc`]: one process. It runs in a process group of its own; stopping it sends the stop
//!   signal to the whole tree, waits a bounded grace period, then SIGKILLs what is left and
//!   reports survivors instead of pretending success.
//! - Run records ([`RunRegistry`]) and [`reap_stale`]: every process group is recorded on disk
//!   *before* the program runs, so that a later tend can end what a crashed one left behind —
//!   never signalling a recycled pid.
//! - Output forwarding per line ([`OutputSink`]), process stats ([`process_stats`]) and port
//!   helpers ([`find_free_port`], [`is_port_free`], [`wait_port_released`]).
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend_runner::RunnerError> {
//! use std::sync::Arc;
//! use tend_runner::{Environment as _, MemorySink, NativeEnvironment};
//!
//! let env = NativeEnvironment::new("/tmp");
//! let sink = MemorySink::default();
//! let mut proc = env.new_proc("sh", &["-c".into(), "echo hi; exit 3".into()])?;
//! proc.output(Arc::new(sink.clone()));
//! let end = proc.run().await?;
//! assert_eq!(end, tend_runner::Exit::Code(3));
//! assert_eq!(sink.lines()[0].1, "hi");
//! # Ok(()) }
//! ```
//!
//! # Theory of operation
//!
//! Start forks the child into a new process group; between fork and `exec` the child itself
//! writes its run record durably (it alone knows its pid and start time at that point, and
//! `std`'s spawn returns only after `exec`); if it cannot, it exits 125 without running the
//! program. Every process gets a random
//! `TEND_RUN_ID` token in its environment, inherited by its descendants. A run's processes are
//! its group, the descendants of its leader by parentage, and any process carrying its token;
//! on Linux tend can also become a child subreaper ([`enable_subreaper`]) so orphans are
//! adopted, found and reaped. When the leader exits on its own, whatever is left of its run is
//! stopped too (like systemd's control-group kill mode), so nothing outlives a program.
//!
//! # Caveats
//!
//! - Windows: each program runs in a job object (through `process-wrap`) that is terminated
//!   as a whole on stop — there are no signals, so no grace period; descendants outside the
//!   job are found by their run token. This path is type-checked here but has not run on
//!   Windows yet.
//! - A descendant that both leaves the group and drops its token (`setsid env -u TEND_RUN_ID`)
//!   is found by parentage while its parent lives, and once orphaned only as an orphan adopted
//!   by a subreaper: it is ended with the program it came from (told by its `TEND_APP` and
//!   `TEND_PROGRAM`, else by its start time; see [`end_adopted_orphans`] for those that cannot
//!   be told). When tend itself dies, such a process is adopted by init: a later tend can find
//!   it only by its token, so it survives.
//! - [`enable_subreaper`] reaps every ended child that [`Proc`] does not own: a program that
//!   enables it should spawn its other children through this crate too.

mod adopted;
#[cfg(unix)]
mod child_record;
mod end;
mod environment;
mod envvars;
mod error;
mod fd_limit;
mod output;
mod ports;
mod proc;
mod reap;
mod records;
mod signal;
mod stats;
mod subreaper;
mod tree;

#[cfg(unix)]
#[path = "unix.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;

#[cfg(unix)]
#[path = "launch_unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "launch_windows.rs"]
mod platform;

#[cfg(target_os = "linux")]
#[path = "os/linux.rs"]
mod os;
#[cfg(not(target_os = "linux"))]
#[path = "os/portable.rs"]
mod os;

pub use adopted::{OrphanReport, end_adopted_orphans};
pub use end::Exit;
pub use environment::{BoxFuture, Environment, NativeEnvironment, RunnerKind};
pub use envvars::EnvVars;
pub use error::RunnerError;
pub use fd_limit::{FdLimit, RaisedLimit, fd_limit, raise_fd_limit, restore_fd_limit};
pub use output::{LineSplitter, MAX_LINE, MemorySink, OutputSink, StdioSink, Stream};
pub use ports::{find_free_port, is_port_free, wait_port_released};
pub use proc::{Proc, ProcHandle, ProcState, RecordSpec, StopPolicy, StopReport};
pub use reap::{Leftover, ReapReport, live_leftovers, reap_stale};
pub use records::{
    BOOT_TIME_TOLERANCE_SECS, DamagedRecord, Owner, RECORD_VERSION, RunRecord, RunRegistry,
    current_boot_id, same_boot,
};
pub use signal::{ParseSignalError, SIGNAL_NAMES, Signal};
pub use stats::{ProcInfo, ProcessState, process_stats};
pub use subreaper::enable_subreaper;
pub use tree::reap_orphans;

/// The environment variable holding a run's token.
pub const RUN_ID_VAR: &str = "TEND_RUN_ID";

/// The environment variable naming the app a process runs for (set from [`RecordSpec::app`]).
pub const APP_VAR: &str = "TEND_APP";

/// The environment variable naming the program a process runs as (set from
/// [`RecordSpec::program`]).
pub const PROGRAM_VAR: &str = "TEND_PROGRAM";
