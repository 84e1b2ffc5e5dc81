//! Where and how a tend process runs.
//!
//! - [`Environment`]: somewhere to run processes. [`spawn`](Environment::spawn) takes a
//!   [`CommandSpec`] (plain data: argv, working directory, variables, [`StopPolicy`], output
//!   sink, stdin/stdout pipes and the [`RecordSpec`] for the run record) and returns a
//!   [`Child`]. [`NativeEnvironment`] runs them on this machine; Docker and Nix environments
//!   will implement the same trait (see [The seam](#the-seam)).
//! - [`Child`]: one started process, whatever its environment: its [`ChildId`], `pid`, `wait`,
//!   `stop` (a [`StopReport`]) and `stats`. A native child runs in a process group of its own;
//!   stopping it sends the stop signal to the whole tree, waits a bounded grace period, then
//!   SIGKILLs what is left and reports survivors instead of pretending success.
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
//! use tend_runner::{CommandSpec, Environment as _, MemorySink, NativeEnvironment};
//!
//! let env = NativeEnvironment::new();
//! let sink = MemorySink::default();
//! let mut spec = CommandSpec::new(vec!["sh".into(), "-c".into(), "echo hi; exit 3".into()], "/tmp");
//! spec.output(Arc::new(sink.clone()));
//! let child = env.spawn(spec).await?;
//! assert_eq!(child.wait().await?, tend_runner::Exit::Code(3));
//! assert_eq!(sink.lines()[0].1, "hi");
//! # Ok(()) }
//! ```
//!
//! # The seam
//!
//! An app holds one [`Environment`] per [`RunnerKind`] its programs use (the program's
//! `runner` key picks it), for as long as it runs: it calls
//! [`reap_leftovers`](Environment::reap_leftovers) at start, [`prepare`](Environment::prepare)
//! once before the first spawn, [`spawn`](Environment::spawn) for every run, and
//! [`shutdown`](Environment::shutdown) at the end. The supervisor sees only a
//! `Box<dyn Child>` (through one adapter in the app): wait, stop, pid. Nothing in it knows
//! where the process runs, so new environments need no change there.
//!
//! - **Native** (`native/`): a process group on this machine. [`ChildId::Group`] is the
//!   leader's pid and start time; the run record is written by the forked child before
//!   `exec`; stop ends the group, everything carrying the run token and (on Linux) orphans
//!   adopted as subreaper; leftovers of a tend that is gone are found from the run records.
//! - **Docker** (to come): `prepare` builds or pulls the image and starts one container per
//!   app, labelled with the app (`tend.app=<app>`); `spawn` is a `docker exec` of the argv in
//!   that container, with the spec's variables and working directory, its output forwarded to
//!   the same [`OutputSink`]; the child is a [`ChildId::Exec`]; `stop` sends the stop signal
//!   to the exec's process, waits the grace, then kills it; `stats` come from the container.
//!   `reap_leftovers` removes the containers carrying the app's label whose tend is gone,
//!   and `shutdown` removes the app's container. No run record or pid tree is needed.
//! - **Nix** (to come): native with a materialised dev-shell environment. `prepare` evaluates
//!   the dev shell once (`nix print-dev-env`) into variables; `spawn` lays the spec's
//!   variables over them and hands the spec to [`NativeEnvironment`], so every native
//!   guarantee (run record, tree kill, survivors reported) holds; `reap_leftovers` is the
//!   native one, and `ensure_binary` searches the shell's PATH.
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
//! Everything that differs between operating systems is in one private module, `os`.
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
//! - [`enable_subreaper`] reaps every ended child that this crate did not spawn: a program
//!   that enables it should spawn its other children through this crate too.

mod adopted;
mod child;
#[cfg(feature = "docker")]
mod docker;
mod end;
mod environment;
mod envvars;
mod error;
mod fd_limit;
mod native;
mod os;
mod output;
mod ports;
mod reap;
mod records;
mod signal;
mod spec;
mod stats;
mod subreaper;
mod tree;

pub use adopted::{ShutdownReport, end_adopted_orphans};
pub use child::{Child, ChildId, StopReport};
#[cfg(feature = "docker")]
pub use docker::{
    ContainerOwner, DockerEnvironment, DockerError, DockerMount, DockerSpec, OWNER_FILE,
    Prepared as DockerPrepared, exit_of as docker_exit, fingerprint as docker_fingerprint,
};
pub use end::Exit;
pub use environment::{BoxFuture, Environment, RunnerKind};
pub use envvars::EnvVars;
pub use error::RunnerError;
pub use fd_limit::{FdLimit, RaisedLimit, fd_limit, raise_fd_limit, restore_fd_limit};
pub use native::NativeEnvironment;
pub use output::{LineSplitter, MAX_LINE, MemorySink, OutputSink, StdioSink, Stream};
pub use ports::{find_free_port, is_port_free, wait_port_released};
pub use reap::{Leftover, ReapReport, live_leftovers, reap_stale};
pub use records::{
    BOOT_TIME_TOLERANCE_SECS, DamagedRecord, Owner, RECORD_VERSION, RunRecord, RunRegistry,
    current_boot_id, same_boot,
};
pub use signal::{ParseSignalError, SIGNAL_NAMES, Signal};
pub use spec::{CommandSpec, RecordSpec, StopPolicy};
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
