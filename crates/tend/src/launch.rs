//! Starting one program of an app: from its configuration to a running process, and the
//! adapter that lets the supervisor drive `tend-runner` processes.

use std::sync::Arc;

use tend_runner::{
    Environment as _, NativeEnvironment, OutputSink, ProcHandle, ProcessEnd, RecordSpec,
    RunRegistry, Signal, StopPolicy,
};
use tend_supervisor::{BoxFuture, Exit, LaunchContext, LaunchError, Launcher, Running};

use crate::config::ProgramConfig;
use crate::home::AppHome;

/// What every program of an app shares.
#[derive(Debug, Clone)]
pub struct AppContext {
    /// The app's state folder.
    pub home: AppHome,
    /// How this start of the app is classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
}

/// Starts runs of one configured program natively.
pub struct ProgramLauncher {
    app: Arc<AppContext>,
    program: ProgramConfig,
    stop: StopPolicy,
    sink: Arc<dyn OutputSink>,
    env: NativeEnvironment,
}

impl ProgramLauncher {
    /// A launcher for `program`, sending output to `sink`.
    pub fn new(app: Arc<AppContext>, program: ProgramConfig, sink: Arc<dyn OutputSink>) -> Self {
        let signal = program.stop.signal.parse::<Signal>().unwrap_or(Signal::Terminate);
        let stop = StopPolicy { signal, grace: program.stop.timeout };
        let env = NativeEnvironment::new(program.dir.clone());
        ProgramLauncher { app, program, stop, sink, env }
    }

    async fn start(&self, ctx: LaunchContext) -> Result<ProcHandle, tend_runner::RunnerError> {
        let (binary, args) = match self.program.command.split_first() {
            Some((binary, args)) => (binary.as_str(), args),
            None => ("", &[][..]),
        };
        let mut proc = self.env.new_proc(binary, args)?;
        for (key, value) in &self.program.env {
            proc.env(key.as_str(), value.as_str());
        }
        let home = &self.app.home;
        proc.env("TEND_APP", home.app.as_str())
            .env("TEND_PROGRAM", self.program.name.as_str())
            .env("TEND_STATE_DIR", home.dir.to_string_lossy())
            .env("TEND_STARTUP_KIND", self.app.startup_kind.as_str())
            .env("TEND_RESTART_COUNT", ctx.restart_count.to_string())
            .env("TEND_RESTART_REASON", ctx.reason.as_str())
            .env(
                "TEND_RESTART_EXIT_CODE",
                self.program.restart_exit_code.map(|c| c.to_string()).unwrap_or_default(),
            );
        proc.output(self.sink.clone()).stop_policy(self.stop).record(RecordSpec {
            registry: RunRegistry::new(home.runs()),
            app: home.app.clone(),
            program: self.program.name.clone(),
        });
        let handle = proc.handle();
        proc.start().await?;
        Ok(handle)
    }
}

impl Launcher for ProgramLauncher {
    fn launch(&self, ctx: LaunchContext) -> BoxFuture<'_, Result<Box<dyn Running>, LaunchError>> {
        Box::pin(async move {
            match self.start(ctx).await {
                Ok(handle) => Ok(Box::new(RunningProc(handle)) as Box<dyn Running>),
                Err(e) => Err(LaunchError::new(crate::exit::chain(&e))),
            }
        })
    }
}

/// A running `tend-runner` process, as the supervisor sees it.
pub struct RunningProc(pub ProcHandle);

fn to_exit(end: ProcessEnd) -> Exit {
    match end {
        ProcessEnd::Exited(code) => Exit::Code(code),
        ProcessEnd::Signalled(signal) => Exit::Signal(signal),
    }
}

impl Running for RunningProc {
    fn pid(&self) -> Option<u32> {
        self.0.pid()
    }

    fn wait(&self) -> BoxFuture<'_, Exit> {
        Box::pin(async move { self.0.wait().await.map(to_exit).unwrap_or(Exit::Code(-1)) })
    }

    fn stop(&self) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            match self.0.stop().await {
                Ok(report) => {
                    if !report.survivors.is_empty() {
                        tracing::error!(
                            "processes {:?} survived SIGKILL; they are still recorded and `tend reap` will retry",
                            report.survivors
                        );
                    }
                    report.end.map(to_exit).unwrap_or(Exit::Code(-1))
                }
                Err(_) => self.0.wait().await.map(to_exit).unwrap_or(Exit::Code(-1)),
            }
        })
    }
}
