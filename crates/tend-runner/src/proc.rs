//! One process: configure, start, wait, stop.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

use crate::adopted::{self, Label};
use crate::envvars::{find_binary, not_found};
use crate::output::{self, OutputSink, StdioSink, Stream};
use crate::platform;
use crate::records::{Owner, RECORD_VERSION, RunRecord, RunRegistry, current_boot_id};
use crate::tree::Tree;
use crate::{APP_VAR, EnvVars, Exit, PROGRAM_VAR, RUN_ID_VAR, RunnerError, Signal, tree};

/// How a process is stopped: `signal` to its whole tree, up to `grace` for it to exit, then
/// SIGKILL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopPolicy {
    /// The polite signal.
    pub signal: Signal,
    /// How long to wait after it before SIGKILL.
    pub grace: Duration,
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy { signal: Signal::Terminate, grace: Duration::from_secs(10) }
    }
}

/// Where to record a process group so that a later tend can reap it, and under which names.
#[derive(Debug, Clone)]
pub struct RecordSpec {
    /// The registry directory.
    pub registry: RunRegistry,
    /// The app name written into the record.
    pub app: String,
    /// The program name written into the record.
    pub program: String,
}

/// The lifecycle of a [`Proc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcState {
    /// Configured, not started.
    NotStarted,
    /// Running with this pid.
    Running {
        /// The leader's pid (also its process group id).
        pid: u32,
    },
    /// Ended.
    Exited(Exit),
    /// Never ran: start failed, or stop came first.
    Failed(String),
}

/// What [`Proc::stop`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// How the process ended, if it ran.
    pub end: Option<Exit>,
    /// How many processes of its tree needed SIGKILL.
    pub killed: usize,
    /// Processes of its tree still alive after SIGKILL (tend reports, never pretends).
    pub survivors: Vec<u32>,
}

pub(crate) struct Shared {
    pub(crate) state: watch::Sender<ProcState>,
    pub(crate) stop_requested: AtomicBool,
    /// Set once the leader is reaped: from then on its pid may be reused, so the group id must
    /// no longer be signalled as a whole.
    pub(crate) reaped: AtomicBool,
    pub(crate) tree: std::sync::Mutex<Option<Tree>>,
    /// Asks the waiter to end the process's job object (Windows: no signals there).
    #[cfg(windows)]
    pub(crate) kill: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<()>>>,
    pub(crate) record: Option<RecordSpec>,
    pub(crate) policy: StopPolicy,
}

/// A cloneable handle on a started [`Proc`]: wait for it, stop it, look at it.
#[derive(Clone)]
pub struct ProcHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ProcHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcHandle").field("state", &*self.shared.state.borrow()).finish()
    }
}

/// One process to run: a program and its arguments, where and with what it runs.
///
/// Configure it, then [`start`](Proc::start) it once. It runs in a process group of its own
/// (its pid is the group id); [`stop`](Proc::stop) ends the whole tree, including descendants
/// that left the group. Every waiter gets the same result; [`wait`](Proc::wait) on a process
/// that never started returns at once with an error.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend_runner::RunnerError> {
/// use tend_runner::{Environment as _, NativeEnvironment};
/// let env = NativeEnvironment::new(std::env::current_dir().unwrap());
/// let mut proc = env.new_proc("echo", &["hello".to_string()])?;
/// let end = proc.run().await?;
/// assert!(end.success());
/// # Ok(()) }
/// ```
pub struct Proc {
    program: String,
    args: Vec<String>,
    dir: PathBuf,
    env_level: EnvVars,
    vars: EnvVars,
    output: Arc<dyn OutputSink>,
    stdin: Option<tokio::io::DuplexStream>,
    stdout: Option<tokio::io::DuplexStream>,
    record: Option<RecordSpec>,
    policy: StopPolicy,
    handle: Option<ProcHandle>,
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proc").field("program", &self.program).field("dir", &self.dir).finish()
    }
}

impl Proc {
    /// A process for `program` with `args`, in `dir`, with `env_level` variables on top of
    /// tend's own environment. Environments call this; users call
    /// [`crate::Environment::new_proc`].
    pub fn new(program: &str, args: &[String], dir: PathBuf, env_level: EnvVars) -> Self {
        Proc {
            program: program.to_string(),
            args: args.to_vec(),
            dir,
            env_level,
            vars: EnvVars::default(),
            output: Arc::new(StdioSink),
            stdin: None,
            stdout: None,
            record: None,
            policy: StopPolicy::default(),
            handle: None,
        }
    }

    /// Runs it in `dir` instead of the environment's directory.
    pub fn dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.dir = dir.into();
        self
    }

    /// The working directory.
    pub fn working_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Sets an environment variable for this process.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.vars.set(key, value);
        self
    }

    /// Sets several environment variables for this process.
    pub fn envs(&mut self, vars: &EnvVars) -> &mut Self {
        self.vars.extend(vars);
        self
    }

    /// Extends a PATH-like variable: the value the process would otherwise get (from this
    /// process's variables, the environment's, or tend's own environment) + `sep` + `value`.
    pub fn env_append(&mut self, key: &str, value: &str, sep: &str) -> &mut Self {
        let fallback =
            self.env_level.get(key).map(str::to_string).or_else(|| std::env::var(key).ok());
        self.vars.append(key, value, sep, fallback.as_deref());
        self
    }

    /// Sends output lines to `sink` instead of tend's own stdout/stderr.
    pub fn output(&mut self, sink: Arc<dyn OutputSink>) -> &mut Self {
        self.output = sink;
        self
    }

    /// Stops with this policy.
    pub fn stop_policy(&mut self, policy: StopPolicy) -> &mut Self {
        self.policy = policy;
        self
    }

    /// Records the process group in `spec.registry` before the program runs.
    pub fn record(&mut self, spec: RecordSpec) -> &mut Self {
        self.record = Some(spec);
        self
    }

    /// A pipe to the process's stdin (otherwise it reads from the null device). Close it
    /// (shut it down) to deliver end-of-file. Must be taken before start, once.
    ///
    /// # Errors
    /// [`RunnerError::PipeTaken`] after start or on a second call.
    pub fn stdin_pipe(&mut self) -> Result<tokio::io::DuplexStream, RunnerError> {
        if self.started() || self.stdin.is_some() {
            return Err(RunnerError::PipeTaken("stdin"));
        }
        let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
        self.stdin = Some(ours);
        Ok(theirs)
    }

    /// A pipe from the process's stdout, which then bypasses the output sink (stderr still goes
    /// to it). Read it to the end: the process blocks when it is full. It reaches end-of-file
    /// when the process and its descendants have closed their stdout. Must be taken before
    /// start, once.
    ///
    /// # Errors
    /// [`RunnerError::PipeTaken`] after start or on a second call.
    pub fn stdout_pipe(&mut self) -> Result<tokio::io::DuplexStream, RunnerError> {
        if self.started() || self.stdout.is_some() {
            return Err(RunnerError::PipeTaken("stdout"));
        }
        let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
        self.stdout = Some(ours);
        Ok(theirs)
    }

    fn started(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| h.state() != ProcState::NotStarted)
    }

    /// A handle for waiting on and stopping the process from elsewhere. Before start it stays
    /// valid and reports [`ProcState::NotStarted`].
    pub fn handle(&mut self) -> ProcHandle {
        self.handle_inner().clone()
    }

    fn handle_inner(&mut self) -> &ProcHandle {
        let (record, policy) = (self.record.clone(), self.policy);
        self.handle.get_or_insert_with(|| ProcHandle {
            shared: Arc::new(Shared {
                state: watch::Sender::new(ProcState::NotStarted),
                stop_requested: AtomicBool::new(false),
                reaped: AtomicBool::new(false),
                tree: std::sync::Mutex::new(None),
                #[cfg(windows)]
                kill: std::sync::Mutex::new(None),
                record,
                policy,
            }),
        })
    }

    /// Starts the process and returns once it runs (its run record, if any, is on disk first).
    ///
    /// # Errors
    /// [`RunnerError::BinaryNotFound`] naming the PATH searched, [`RunnerError::NoSuchDir`], [`RunnerError::NotADir`],
    /// [`RunnerError::Spawn`], [`RunnerError::Record`] when the record cannot be written (the
    /// program then never runs), [`RunnerError::AlreadyStarted`] or
    /// [`RunnerError::StoppedBeforeStart`].
    pub async fn start(&mut self) -> Result<(), RunnerError> {
        let handle = self.handle_inner().clone();
        if handle.shared.stop_requested.load(Ordering::SeqCst) {
            return Err(RunnerError::StoppedBeforeStart);
        }
        if *handle.shared.state.borrow() != ProcState::NotStarted {
            return Err(RunnerError::AlreadyStarted);
        }
        match self.spawn(&handle).await {
            Ok(()) => Ok(()),
            Err(e) => {
                handle.shared.state.send_replace(ProcState::Failed(e.to_string()));
                Err(e)
            }
        }
    }

    async fn spawn(&mut self, handle: &ProcHandle) -> Result<(), RunnerError> {
        let path_var = self
            .vars
            .get("PATH")
            .or(self.env_level.get("PATH"))
            .map(std::ffi::OsString::from)
            .or_else(|| std::env::var_os("PATH"));
        let binary = find_binary(&self.program, path_var.as_ref())
            .ok_or_else(|| not_found(&self.program, path_var.as_ref()))?;
        match std::fs::metadata(&self.dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(RunnerError::NotADir { dir: self.dir.clone() }),
            Err(_) => return Err(RunnerError::NoSuchDir { dir: self.dir.clone() }),
        }
        let token = new_token();
        let mut cmd = tokio::process::Command::new(&binary);
        cmd.args(&self.args).current_dir(&self.dir).kill_on_drop(false);
        for (k, v) in self.env_level.iter().chain(self.vars.iter()) {
            cmd.env(k, v);
        }
        cmd.env(RUN_ID_VAR, &token);
        let label = handle
            .shared
            .record
            .as_ref()
            .map(|spec| Label { app: spec.app.clone(), program: spec.program.clone() });
        if let Some(label) = &label {
            // What an escapee that drops its token is still known by.
            cmd.env(APP_VAR, &label.app).env(PROGRAM_VAR, &label.program);
        }
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped());
        cmd.stderr(Stdio::piped());
        let record = handle.shared.record.as_ref().map(|spec| RunRecord {
            version: RECORD_VERSION,
            app: spec.app.clone(),
            program: spec.program.clone(),
            pgid: 0,
            pid: 0,
            start_time: 0,
            boot_id: current_boot_id().unwrap_or_default(),
            argv: std::iter::once(self.program.clone()).chain(self.args.clone()).collect(),
            cwd: self.dir.clone(),
            run_id: token.clone(),
            owner: Owner::current(),
            started_at: RunRecord::now_secs(),
        });
        let mut launched = platform::launch(cmd, &self.program, handle, record).await?;
        let pid = launched.pid;
        let tree =
            Tree { leader: pid, leader_start: launched.start_time, token, ours: true, label };
        adopted::register(tree.live_run());
        if let Ok(mut slot) = handle.shared.tree.lock() {
            *slot = Some(tree.clone());
        }
        handle.shared.state.send_replace(ProcState::Running { pid });

        let mut forwarders = Vec::new();
        if let (Some(mut feed), Some(mut stdin)) = (self.stdin.take(), launched.stdin.take()) {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut feed, &mut stdin).await;
                let _ = stdin.shutdown().await;
            });
        }
        match (self.stdout.take(), launched.stdout.take()) {
            (Some(mut pipe), Some(mut out)) => {
                forwarders.push(tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut out, &mut pipe).await;
                    let _ = pipe.shutdown().await;
                }));
            }
            (None, Some(out)) => forwarders.push(tokio::spawn(output::forward(
                out,
                Stream::Stdout,
                self.output.clone(),
            ))),
            _ => {}
        }
        if let Some(err) = launched.stderr.take() {
            forwarders.push(tokio::spawn(output::forward(
                err,
                Stream::Stderr,
                self.output.clone(),
            )));
        }
        let shared = handle.shared.clone();
        tokio::spawn(async move {
            let end = launched.wait.await;
            shared.reaped.store(true, Ordering::SeqCst);
            tree::disown(pid);
            let mut clean = true;
            if !shared.stop_requested.load(Ordering::SeqCst) && tree.may_have_leftovers() {
                // The leader is gone: like systemd's control-group mode, nothing of its run
                // outlives it.
                let outcome =
                    tree.terminate(shared.policy.signal, shared.policy.grace, false).await;
                if !outcome.survivors.is_empty() {
                    tracing::error!(pid, survivors = ?outcome.survivors, "processes survived SIGKILL");
                    clean = false;
                }
            }
            adopted::unregister(&tree.token);
            drain(forwarders).await;
            if clean && !shared.stop_requested.load(Ordering::SeqCst) {
                remove_record(&shared, pid);
            }
            shared.state.send_replace(ProcState::Exited(end));
        });
        Ok(())
    }

    /// Starts the process and waits for it to end.
    ///
    /// # Errors
    /// As [`Proc::start`].
    pub async fn run(&mut self) -> Result<Exit, RunnerError> {
        self.start().await?;
        self.wait().await
    }

    /// Waits for the process to end; see [`ProcHandle::wait`].
    ///
    /// # Errors
    /// As [`ProcHandle::wait`].
    pub async fn wait(&mut self) -> Result<Exit, RunnerError> {
        self.handle_inner().clone().wait().await
    }

    /// Stops the process tree; see [`ProcHandle::stop`].
    ///
    /// # Errors
    /// As [`ProcHandle::stop`].
    pub async fn stop(&mut self) -> Result<StopReport, RunnerError> {
        self.handle_inner().clone().stop().await
    }

    /// Whether the process is running.
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(ProcHandle::is_running)
    }
}

/// A leader process as the platform module started it.
pub(crate) struct Launched {
    pub pid: u32,
    pub start_time: u64,
    pub stdin: Option<tokio::process::ChildStdin>,
    pub stdout: Option<tokio::process::ChildStdout>,
    pub stderr: Option<tokio::process::ChildStderr>,
    /// Resolves when the leader has ended (and, on Unix, been reaped; on Windows, its job has
    /// been terminated).
    pub wait: crate::BoxFuture<'static, Exit>,
}

/// The buffer of the in-memory pipes of [`Proc::stdin_pipe`] and [`Proc::stdout_pipe`].
const PIPE_BUFFER: usize = 64 * 1024;

/// How long output may take to drain after a process tree ended.
const DRAIN: Duration = Duration::from_secs(2);

/// Gives output forwarders a bounded time, together, to reach end-of-file after the process
/// tree ended (a process outside the run could hold the pipe open forever).
async fn drain(forwarders: Vec<tokio::task::JoinHandle<()>>) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    for mut task in forwarders {
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}

fn remove_record(shared: &Shared, pgid: u32) {
    if let Some(spec) = &shared.record
        && let Err(e) = spec.registry.remove(pgid)
    {
        tracing::warn!("{e}");
    }
}

fn new_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ProcHandle {
    /// The current state.
    pub fn state(&self) -> ProcState {
        self.shared.state.borrow().clone()
    }

    /// The leader's pid while it runs.
    pub fn pid(&self) -> Option<u32> {
        match *self.shared.state.borrow() {
            ProcState::Running { pid } => Some(pid),
            _ => None,
        }
    }

    /// Whether the process is running.
    pub fn is_running(&self) -> bool {
        matches!(*self.shared.state.borrow(), ProcState::Running { .. })
    }

    /// Waits for the process to end and returns how. Any number of callers get the same
    /// result; calling it again after the end returns at once.
    ///
    /// # Errors
    /// [`RunnerError::NotStarted`] at once if it was never started, or
    /// [`RunnerError::StartFailed`] if it failed to start or was stopped before starting.
    pub async fn wait(&self) -> Result<Exit, RunnerError> {
        let mut rx = self.shared.state.subscribe();
        let state = rx
            .wait_for(|s| !matches!(s, ProcState::Running { .. }))
            .await
            .map(|s| s.clone())
            .unwrap_or(ProcState::Failed("process handle dropped".into()));
        match state {
            ProcState::Exited(end) => Ok(end),
            ProcState::NotStarted => Err(RunnerError::NotStarted),
            ProcState::Failed(why) => Err(RunnerError::StartFailed(why)),
            ProcState::Running { .. } => Err(RunnerError::NotStarted),
        }
    }

    /// Stops the whole process tree: the stop signal to the group and to every descendant that
    /// left it, the grace period, then SIGKILL; then waits for the leader to be reaped.
    /// Idempotent. A process that never started will not start any more.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for environments whose stop can fail.
    pub async fn stop(&self) -> Result<StopReport, RunnerError> {
        self.shared.stop_requested.store(true, Ordering::SeqCst);
        let tree = self.shared.tree.lock().ok().and_then(|t| t.clone());
        let running = self.pid();
        let (Some(tree), Some(pid)) = (tree, running) else {
            self.shared.state.send_if_modified(|s| {
                let fresh = *s == ProcState::NotStarted;
                if fresh {
                    *s = ProcState::Failed("stopped before it started".into());
                }
                fresh
            });
            let end = match self.state() {
                ProcState::Exited(end) => Some(end),
                _ => None,
            };
            return Ok(StopReport { end, killed: 0, survivors: Vec::new() });
        };
        let policy = self.shared.policy;
        // Signal the group as a whole only while the leader is unreaped (its id is then ours).
        #[cfg(windows)]
        platform::request_kill(&self.shared);
        let group_signal = !self.shared.reaped.load(Ordering::SeqCst);
        let outcome = tree.terminate(policy.signal, policy.grace, group_signal).await;
        let end = tokio::time::timeout(tree::KILL_WAIT + DRAIN, self.wait())
            .await
            .ok()
            .and_then(Result::ok);
        if outcome.survivors.is_empty() {
            remove_record(&self.shared, pid);
        } else {
            tracing::error!(pid, survivors = ?outcome.survivors, "processes survived SIGKILL");
        }
        Ok(StopReport { end, killed: outcome.killed, survivors: outcome.survivors })
    }
}
