//! Where and how a tend process runs.
//!
//! - [`Environment`]: somewhere to run processes. [`spawn`](Environment::spawn) takes a
//!   [`CommandSpec`] (plain data: argv, working directory, variables, [`StopPolicy`], output
//!   sink, stdin/stdout pipes and the [`RecordSpec`] for the run record) and returns a
//!   [`Child`]. [`NativeEnvironment`] runs them on this machine, [`DockerEnvironment`] in an
//!   app's container, [`NixEnvironment`] in a flake's dev shell (see [The seam](#the-seam)).
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
//! - **Docker** (`docker/`, the default-on `docker` feature): see [The Docker
//!   environment](#the-docker-environment).
//! - **Nix** (`nix/`): native, in a flake's dev shell: see [The Nix
//!   environment](#the-nix-environment).
//!
//! # The Docker environment
//!
//! [`DockerEnvironment`] (feature `docker`, on by default) runs an app's programs in one
//! long-lived container of its own, through the Docker Engine API ([bollard]; never the
//! `docker` CLI). It speaks API 1.41 (Docker Engine 20.10) or later: the client's version is
//! lowered to the daemon's when that is older, and a daemon older than 1.41 is refused.
//!
//! - **What defines the container** is a [`DockerSpec`] (plain data: app, image, bind mounts,
//!   network `host` by default, an init as PID 1 by default, the user — the host `uid:gid` on
//!   Linux by default — and variables for every run). [`docker_fingerprint`] digests the parts
//!   that define the container; the variables are not among them: they are given to each run
//!   through the exec API, so they never show in `docker inspect` and changing one recreates
//!   nothing.
//! - **`prepare`** connects (a typed [`DockerError`] tells no daemon, permission denied on the
//!   socket, and a missing image apart, each saying what to do), then makes sure
//!   `tend-<app>` runs: labelled `tend.managed`, `tend.app`, `tend.fingerprint`,
//!   `tend.image_id` and the creating tend's identity (`tend.owner.pid`,
//!   `tend.owner.start_time`, `tend.owner.boot_id`). The same fingerprint and image id reuse
//!   the container, anything else recreates it. Labels cannot change on a live container, so
//!   the *current* owner is written to [`OWNER_FILE`] inside it (through the archive API, no
//!   shell needed): a reusing tend adopts the container by rewriting that file, and reaping
//!   reads it (falling back to the labels). A container whose current owner is another tend
//!   that still runs is refused. In a reused container everything but its init and keep-alive
//!   is ended first (TERM, a grace, SIGKILL): it was left by an earlier tend's runs. The image
//!   must have `/bin/sh` (checked before the container starts), `grep`, `sleep` and `/proc`;
//!   otherwise `prepare` refuses it and says why ([`DockerError::ImageUnfit`]).
//! - **`spawn`** is an exec of `/bin/sh -c WRAPPER tend-run ARGV…` with stdout and stderr
//!   attached (stdin when the spec asks): the wrapper prints its pid inside the container on
//!   its first stdout line and `exec`s the program, which therefore leads the exec's own
//!   process group (runc makes every exec a session leader). A program not on the container's
//!   PATH is [`RunnerError::BinaryNotFound`], as natively. The other output goes through the
//!   same line forwarding as a native run ([`OutputSink`], [`LineSplitter`]). Variables —
//!   the spec's, the run's, `TEND_RUN_ID`, `TEND_APP`, `TEND_PROGRAM` — go in the exec's
//!   `Env`, never on a command line: the container's and the exec's arguments hold only the
//!   wrapper and the program's own argv.
//! - **The end** of a run is the daemon's `exec_die` event (with a poll every 2 s should an
//!   event be missed); its exit code becomes an [`Exit`] by [`docker_exit`]: the daemon
//!   reports a death by signal N as 128 + N, so 129–192 read as [`Exit::Signal`] (a program
//!   that itself exits 129–192 reads as a signal death too, as in `docker` and Kubernetes; the
//!   restart table treats both as a crash, and 42 is never ambiguous). As natively, what the
//!   program leaves behind is ended when it exits.
//! - **`stop`** runs a stop script inside the container: the stop signal to the program's
//!   process group and to every process carrying the run's token (which finds `setsid`
//!   escapees), the grace, SIGKILL, then a check; survivors are reported in the
//!   [`StopReport`]. The script runs as the programs' user.
//! - **`reap_leftovers`** removes this app's tend containers whose current owner is gone
//!   (pid + start time + boot id, never a bare pid), after a polite sweep; **`shutdown`**
//!   ends what is left in the container (TERM, grace, SIGKILL) and removes it.
//!
//! Not covered yet: stats of a run in a container ([`Child::stats`] is `None`); several
//! containers per app; Podman; remote daemons over TLS (`DOCKER_HOST=tcp://` may work but is
//! not tested). The container name is per app, so two `TEND_HOME`s with the same app name on
//! one daemon share it: the second is refused while the first runs.
//!
//! [bollard]: https://docs.rs/bollard
//!
//! # The Nix environment
//!
//! [`NixEnvironment`] runs programs in the dev shell (`devShells.<system>.default`) of the
//! flake a [`NixSpec`] names. A Nix program *is* a native process: every spawn goes to
//! [`NativeEnvironment`], so the process group, run record, token, tree kill and survivors
//! reported all hold, and its run records are reaped by the native environment.
//!
//! - **Materialised** (the default, [`NixMode::Materialised`]): `prepare` runs
//!   `nix print-dev-env --json --profile <slot>/profile .` in the flake's folder once. The
//!   `--profile` link is the GC root (nix registers it as an indirect root, so the shell and
//!   its closure survive `nix-collect-garbage`; it works offline with Nix 2.8, in one step, where
//!   `nix build --out-link` would build another output and `nix-store --add-root` would leave a
//!   window before the root exists). Only the profile's current generation is kept. Of the
//!   printed variables, the `exported` strings are kept, less [`NIX_DROPPED_VARS`] (those
//!   `nix develop` drops: build-time values, and `HOME`, `TMPDIR`, `TERM`, `TZ`…, which the
//!   program keeps from tend's environment). Each spawn gets tend's environment, the shell's
//!   variables over it, then the spec's own variables (configured values win), and
//!   `PATH = <shell PATH>:<the PATH it would otherwise have>` (a shell without PATH prints
//!   `/path-not-set`, which is dropped). A spawn then costs what a native one costs.
//! - **Wrapped** ([`NixMode::Wrapped`], with the reason): when materialising fails (nix's
//!   `print-dev-env` fails or prints something unreadable) but `nix develop . --command true`
//!   works, every spawn is the native run of `nix develop FLAKE --command ARGV…` (nix evaluates
//!   at every start: about 30 ms more; a missing binary ends the run with 127). The reason is
//!   in [`NixEnvironment::prepared`] for the log and `status`, and logged as a warning.
//! - **The cache** lives under the folder the app passes ([`NixSpec::cache_dir`],
//!   `$TEND_HOME/cache/nix/`): one private slot per flake folder (`<name>-<hash of its path>/`)
//!   with `entry.json` (mode 0600, written atomically: the variables may hold secrets),
//!   `profile` (the GC root) and `lock`. The key ([`nix_cache_key`]) is a SHA-256 over the
//!   folder, the system ([`nix_system`], told without running nix) and the bytes of
//!   `flake.nix` and `flake.lock`. A hit needs the key and a GC root still leading to the
//!   entry's store path; then nix does not run at all ([`NixEnvironment::nix_runs`] stays 0).
//!   A miss takes the slot's OS file lock (bounded by [`NixSpec::eval_timeout`]) and looks
//!   again, so concurrent tends share one evaluation ([`ShellSource::SharedEvaluation`]); a
//!   damaged entry is moved aside ([`NixPrepared::set_aside`]) and evaluated again;
//!   [`NixSpec::refresh`] (`tend prepare --refresh`) evaluates even on a hit.
//! - **Changes**: [`NixEnvironment::watch_paths`] names `flake.nix` and `flake.lock`; the app
//!   watches them and calls [`NixEnvironment::invalidate`], after which the next spawn checks
//!   the key again (the cache if it is unchanged, an evaluation if not). Without it, a
//!   prepared environment keeps its shell.
//! - **Errors** ([`NixError`], inside [`RunnerError::Nix`]) each say what to do: nix not
//!   installed (how to install it), no `flake.nix`, flakes disabled (the exact
//!   [`FLAKES_LINE`]), a flake in a git repository that git does not track (nix's "getting
//!   status of '/nix/store/…-source/flake.nix': No such file or directory" made
//!   understandable: `git add`), an evaluation that failed (nix's last stderr lines).
//! - **`runner = "auto"`**: [`choose_runner`] is a pure function of [`RunnerInputs`] (which
//!   folders have a flake — [`has_flake`] —, [`nix_installed`], a `[docker]` table, the
//!   daemon answering) to a [`RunnerChoice`] with its reason: nix, then docker, then native.
//!
//! Not covered yet: files the flake imports (`./nix/*.nix`) and local path inputs are not in
//! the key (a change to them needs `refresh`); the nix version is not in the key; a flake
//! folder whose path has spaces works materialised only (nix refuses such a flake reference,
//! and the wrapped run must name the folder); the flake's folder is copied to the store at
//! each evaluation as nix does (tracked files only in a git repository).
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
mod choose;
#[cfg(feature = "docker")]
mod docker;
mod end;
mod environment;
mod envvars;
mod error;
mod fd_limit;
mod native;
mod nix;
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
pub use choose::{RunnerChoice, RunnerInputs, choose_runner, has_flake, nix_installed};
#[cfg(feature = "docker")]
pub use docker::{
    BuildProgress as DockerBuildProgress, ContainerOwner, ContextFile as DockerContextFile,
    DockerEnvironment, DockerError, DockerMount, DockerSpec, FAILURE_LINES as DOCKER_FAILURE_LINES,
    ImageBuild as DockerImageBuild, OWNER_FILE, Prepared as DockerPrepared,
    build_image as docker_build_image, container_name as docker_container_name,
    exit_of as docker_exit, fingerprint as docker_fingerprint, host_user_ids as docker_host_user,
    image_present as docker_image_present, parse_step as docker_build_step, ping as docker_ping,
};
pub use end::Exit;
pub use environment::{BoxFuture, Environment, RunnerKind};
pub use envvars::EnvVars;
pub use error::RunnerError;
pub use fd_limit::{FdLimit, RaisedLimit, fd_limit, raise_fd_limit, restore_fd_limit};
pub use native::NativeEnvironment;
pub use nix::{
    DROPPED as NIX_DROPPED_VARS, EVAL_TIMEOUT as NIX_EVAL_TIMEOUT, FLAKE_FILES, FLAKES_LINE,
    NixEnvironment, NixError, NixMode, NixPrepared, NixSpec, ShellEnv, ShellSource,
    cache_key as nix_cache_key, host_system as nix_system,
};
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
