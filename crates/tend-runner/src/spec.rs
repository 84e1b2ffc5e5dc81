//! What to run: [`CommandSpec`], the same for every environment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::{EnvVars, OutputSink, RunRegistry, RunnerError, Signal, StdioSink};

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

/// One process to run: its command line, where and with what it runs, how it is stopped,
/// where its output goes and under which names it is recorded. Plain data: an
/// [`Environment`](crate::Environment) [`spawn`](crate::Environment::spawn)s it.
///
/// The process gets tend's own environment with [`env`](CommandSpec::env) on top, plus
/// `TEND_RUN_ID` (and, with a record, `TEND_APP` and `TEND_PROGRAM`).
pub struct CommandSpec {
    /// The program (looked up on the PATH it will have, unless it holds a path separator)
    /// and its arguments.
    pub argv: Vec<String>,
    /// The working directory.
    pub dir: PathBuf,
    /// Variables set on top of tend's own environment.
    pub env: EnvVars,
    /// How it is stopped.
    pub stop: StopPolicy,
    /// Where its output lines go (stdout too, unless [`stdout_pipe`](CommandSpec::stdout_pipe)
    /// took it).
    pub output: Arc<dyn OutputSink>,
    /// Where its process group is recorded before it runs, if anywhere.
    pub record: Option<RecordSpec>,
    /// Our end of its stdin, when piped.
    stdin: Option<tokio::io::DuplexStream>,
    /// Our end of its stdout, when piped.
    stdout: Option<tokio::io::DuplexStream>,
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSpec").field("argv", &self.argv).field("dir", &self.dir).finish()
    }
}

/// The buffer of the in-memory pipes of [`CommandSpec::stdin_pipe`] and
/// [`CommandSpec::stdout_pipe`].
const PIPE_BUFFER: usize = 64 * 1024;

impl CommandSpec {
    /// A process for `argv` (the program, then its arguments) in `dir`, with no variables of
    /// its own, the default stop policy, output to tend's own stdout/stderr, stdin from the
    /// null device, and no record.
    pub fn new(argv: Vec<String>, dir: impl Into<PathBuf>) -> Self {
        CommandSpec {
            argv,
            dir: dir.into(),
            env: EnvVars::default(),
            stop: StopPolicy::default(),
            output: Arc::new(StdioSink),
            record: None,
            stdin: None,
            stdout: None,
        }
    }

    /// The program: the first word of [`argv`](CommandSpec::argv) (empty if there is none).
    pub fn program(&self) -> &str {
        self.argv.first().map_or("", String::as_str)
    }

    /// Sets an environment variable for this process.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.set(key, value);
        self
    }

    /// Sets several environment variables for this process.
    pub fn envs(&mut self, vars: &EnvVars) -> &mut Self {
        self.env.extend(vars);
        self
    }

    /// Extends a PATH-like variable: the value the process would otherwise get (from this
    /// spec's variables, else tend's own environment) + `sep` + `value`.
    pub fn env_append(&mut self, key: &str, value: &str, sep: &str) -> &mut Self {
        let fallback = std::env::var(key).ok();
        self.env.append(key, value, sep, fallback.as_deref());
        self
    }

    /// Sends output lines to `sink` instead of tend's own stdout/stderr.
    pub fn output(&mut self, sink: Arc<dyn OutputSink>) -> &mut Self {
        self.output = sink;
        self
    }

    /// Stops with this policy.
    pub fn stop_policy(&mut self, policy: StopPolicy) -> &mut Self {
        self.stop = policy;
        self
    }

    /// Records the process group in `spec.registry` before the program runs.
    pub fn record(&mut self, spec: RecordSpec) -> &mut Self {
        self.record = Some(spec);
        self
    }

    /// A pipe to the process's stdin (otherwise it reads from the null device). Close it
    /// (shut it down) to deliver end-of-file.
    ///
    /// # Errors
    /// [`RunnerError::PipeTaken`] on a second call.
    pub fn stdin_pipe(&mut self) -> Result<tokio::io::DuplexStream, RunnerError> {
        pipe(&mut self.stdin, "stdin")
    }

    /// A pipe from the process's stdout, which then bypasses the output sink (stderr still goes
    /// to it). Read it to the end: the process blocks when it is full. It reaches end-of-file
    /// when the process and its descendants have closed their stdout.
    ///
    /// # Errors
    /// [`RunnerError::PipeTaken`] on a second call.
    pub fn stdout_pipe(&mut self) -> Result<tokio::io::DuplexStream, RunnerError> {
        pipe(&mut self.stdout, "stdout")
    }

    /// Our ends of the stdin and stdout pipes, for the environment that spawns it.
    pub(crate) fn take_pipes(
        &mut self,
    ) -> (Option<tokio::io::DuplexStream>, Option<tokio::io::DuplexStream>) {
        (self.stdin.take(), self.stdout.take())
    }
}

fn pipe(
    ours: &mut Option<tokio::io::DuplexStream>,
    name: &'static str,
) -> Result<tokio::io::DuplexStream, RunnerError> {
    if ours.is_some() {
        return Err(RunnerError::PipeTaken(name));
    }
    let (mine, theirs) = tokio::io::duplex(PIPE_BUFFER);
    *ours = Some(mine);
    Ok(theirs)
}
