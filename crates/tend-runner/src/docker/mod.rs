//! The Docker environment: an app's programs run as execs in one long-lived container of its
//! own, through the Docker Engine API (bollard; never the `docker` CLI).
//!
//! - `spec`: [`DockerSpec`] (what defines the container, plain data) and its [`fingerprint`].
//! - `owner`: [`ContainerOwner`] (pid + start time + boot id), as labels and owner file.
//! - `connect`: the client, the API version, the typed connection errors ([`DockerError`]).
//! - `container`: the container found, reused (and swept) or recreated; reaping; removal.
//! - `scripts`: the POSIX shell scripts run inside (run wrapper, stop, sweep, probe).
//! - `spawn` and `child`: a run as an exec, its output, its end and its stop.
//! - `events`: the daemon's `exec_die` events, which tell a run's end without polling.
//! - `build`: building an image from a tar context, with its steps and lines as they come.

mod build;
mod child;
mod connect;
mod container;
mod error;
mod events;
mod oneshot;
mod owner;
mod scripts;
mod spawn;
mod spec;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use tokio::sync::Mutex;

pub use build::{
    BuildProgress, ContextFile, FAILURE_LINES, ImageBuild, build_image, image_present, parse_step,
};
pub use child::exit_of;
pub use connect::ping;
pub use error::DockerError;
pub use owner::{ContainerOwner, OWNER_FILE};
pub use spec::{DockerMount, DockerSpec, container_name, fingerprint, host_user_ids};

use crate::{
    BoxFuture, Child, CommandSpec, EnvVars, Environment, ReapReport, RunRegistry, RunnerError,
    RunnerKind, ShutdownReport,
};

/// How long the sweep of a reused container gives an earlier tend's leftovers to exit on
/// TERM before SIGKILL.
const SWEEP_GRACE: Duration = Duration::from_secs(5);

/// What a prepared environment holds: the client, the container and its event stream.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) docker: Docker,
    pub(crate) container: String,
    pub(crate) user: Option<String>,
    pub(crate) env: EnvVars,
    pub(crate) events: Arc<events::ExecEvents>,
}

/// What [`DockerEnvironment::prepare`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The container's id.
    pub container: String,
    /// Whether an existing container was reused (same fingerprint and image) rather than
    /// created.
    pub reused: bool,
    /// Processes of an earlier tend's runs that were ended in the reused container.
    pub swept: usize,
}

/// Runs an app's programs in its container (`tend-<app>`), one exec per run.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend_runner::RunnerError> {
/// use tend_runner::{CommandSpec, DockerEnvironment, DockerSpec, Environment as _};
/// let env = DockerEnvironment::new(DockerSpec::new("demo", "my-image:1"));
/// env.prepare().await?;
/// let child = env.spawn(CommandSpec::new(vec!["echo".into(), "hi".into()], "/")).await?;
/// assert!(child.wait().await?.success());
/// env.shutdown(std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DockerEnvironment {
    spec: DockerSpec,
    ready: Mutex<Option<Arc<Ready>>>,
}

impl DockerEnvironment {
    /// The environment of the container `spec` describes (nothing is contacted before
    /// [`prepare`](Environment::prepare) or the first spawn).
    pub fn new(spec: DockerSpec) -> Self {
        DockerEnvironment { spec, ready: Mutex::new(None) }
    }

    /// The spec.
    pub fn spec(&self) -> &DockerSpec {
        &self.spec
    }

    /// Connects, and makes sure the app's container runs as the spec defines it and is owned
    /// by this tend (see [`Environment::prepare`]); says what it did. Once prepared, a second
    /// call returns at once while the container runs.
    ///
    /// # Errors
    /// [`DockerError::NoDaemon`], [`DockerError::SocketPermission`],
    /// [`DockerError::ImageMissing`], [`DockerError::ImageUnfit`],
    /// [`DockerError::OwnedByOther`], [`DockerError::Api`].
    pub async fn prepare_container(&self) -> Result<Prepared, DockerError> {
        let mut ready = self.ready.lock().await;
        if let Some(current) = ready.as_ref() {
            let running = current
                .docker
                .inspect_container(&current.container, None)
                .await
                .ok()
                .and_then(|c| c.state)
                .and_then(|s| s.running)
                .unwrap_or(false);
            if running {
                return Ok(Prepared {
                    container: current.container.clone(),
                    reused: true,
                    swept: 0,
                });
            }
        }
        let docker = connect::connect().await?;
        let since = crate::records::RunRecord::now_secs().saturating_sub(1);
        let prepared = container::ensure(&docker, &self.spec, SWEEP_GRACE).await?;
        let events = events::ExecEvents::follow(
            docker.clone(),
            prepared.id.clone(),
            i64::try_from(since).unwrap_or(i64::MAX),
        );
        *ready = Some(Arc::new(Ready {
            docker,
            container: prepared.id.clone(),
            user: self.spec.user.clone(),
            env: self.spec.env.clone(),
            events,
        }));
        Ok(Prepared { container: prepared.id, reused: prepared.reused, swept: prepared.swept })
    }

    async fn ready(&self) -> Result<Arc<Ready>, RunnerError> {
        if let Some(ready) = self.ready.lock().await.as_ref() {
            return Ok(Arc::clone(ready));
        }
        self.prepare_container().await?;
        self.ready
            .lock()
            .await
            .as_ref()
            .map(Arc::clone)
            .ok_or_else(|| RunnerError::StartFailed("the container is not prepared".into()))
    }
}

impl Environment for DockerEnvironment {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Docker
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async move {
            self.prepare_container().await?;
            Ok(())
        })
    }

    fn spawn(&self, spec: CommandSpec) -> BoxFuture<'_, Result<Box<dyn Child>, RunnerError>> {
        Box::pin(async move {
            let ready = self.ready().await?;
            let child = spawn::spawn(&ready, spec).await?;
            Ok(Box::new(child) as Box<dyn Child>)
        })
    }

    /// Removes this app's tend containers whose owning tend is gone (owner file, else labels:
    /// pid + start time + boot id); keeps those whose owner runs. The run records are the
    /// native environment's: a container needs none.
    fn reap_leftovers<'a>(
        &'a self,
        _registry: &'a RunRegistry,
        grace: Duration,
    ) -> BoxFuture<'a, ReapReport> {
        Box::pin(async move {
            let mut report = ReapReport::default();
            let docker = match connect::connect().await {
                Ok(docker) => docker,
                Err(e) => {
                    report.problems.push(e.to_string());
                    return report;
                }
            };
            let reaped = container::reap(&docker, &self.spec.app, grace).await;
            report.records_cleared = reaped.removed;
            report.records_kept = reaped.kept;
            report.problems = reaped.problems;
            report
        })
    }

    /// Ends what is left in the app's container (TERM, `grace`, SIGKILL) and removes it.
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, Result<ShutdownReport, RunnerError>> {
        Box::pin(async move {
            let Some(ready) = self.ready.lock().await.take() else {
                return Ok(ShutdownReport::default());
            };
            container::retire(&ready.docker, &ready.container, ready.user.as_deref(), grace)
                .await?;
            Ok(ShutdownReport::default())
        })
    }

    /// The name as given: it is looked up on the container's PATH when it is spawned
    /// ([`RunnerError::BinaryNotFound`] then names that PATH), since this call cannot ask the
    /// daemon.
    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError> {
        Ok(PathBuf::from(name))
    }
}
