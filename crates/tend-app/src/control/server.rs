//! The control API server of a running app: HTTP/JSON on the app's `tend.sock`
//! (`docs/control-api.md`).
//!
//! It never stops the app from running: when the socket cannot be bound, a warning is logged and
//! the app runs without it. The transport is the only platform-specific part: a Unix socket, or
//! on Windows a named pipe (`control::pipe`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use tend_api::{AppHome, Placement};
use tend_supervisor::Supervisor;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Runner;

/// What the server needs from the running app.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The app's state folder (the socket and the logs are in it).
    pub home: AppHome,
    /// The app's programs.
    pub supervisor: Supervisor,
    /// How this start was classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
    /// Each program's runner (`native`…), by name; a config reload updates it.
    pub runners: Runners,
    /// `POST /v1/stop` sends a reason here: the app stops as on SIGTERM.
    pub stop: UnboundedSender<&'static str>,
    /// The in-flight items (`/v1/inflight`): open, and interrupted at this start.
    pub inflight: std::sync::Arc<crate::inflight::InflightState>,
    /// `POST /v1/app/restart` sends its request here: the whole app restarts.
    pub restart_app: UnboundedSender<crate::lifecycle::restart::RestartRequest>,
    /// How many connections it holds at most (`descriptors::API_CONNECTIONS`, fewer under a
    /// tight descriptor limit).
    pub max_connections: usize,
    /// The programs' log files that cannot be written now.
    pub log_health: crate::program_log::LogHealth,
    /// What `tend status` says about updates.
    pub update: crate::update_watch::UpdateState,
    /// Where the app's events go (`GET /v1/events`).
    pub events: crate::control::events::EventHub,
}

/// Where each program runs ([`Placement`]: its runner, and a docker program's container and
/// image, or why it runs natively instead), by name; kept current by the set of programs (a
/// config reload) and by the launchers (a fallback). Cheap to clone; every clone is the same
/// map.
#[derive(Debug, Clone, Default)]
pub struct Runners(Arc<RwLock<HashMap<String, Placement>>>);

impl Runners {
    /// Replaces the map with the programs of `config`.
    pub fn set(&self, config: &crate::config::Config) {
        let docker = config.docker.as_deref().map(|docker| {
            let image = crate::docker::image_of(docker, &config.name).map(|(image, _)| image);
            (tend_runner::docker_container_name(&config.name), image.ok())
        });
        let map = config
            .programs
            .iter()
            .map(|p| {
                let mut placement = Placement::of(p.runner.to_string());
                if let (Runner::Docker, Some((container, image))) = (p.runner, &docker) {
                    placement.container = Some(container.clone());
                    placement.image.clone_from(image);
                }
                if p.runner == Runner::Nix {
                    let flake = config.flake_dir(p);
                    let flake = std::path::absolute(&flake).unwrap_or(flake);
                    placement.flake = Some(flake.to_string_lossy().into_owned());
                    // Kept across a reload: the shell is the same until it is prepared again.
                    let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
                    if let Some(old) = map.get(&p.name).filter(|old| old.flake == placement.flake) {
                        placement.mode.clone_from(&old.mode);
                        placement.fallback.clone_from(&old.fallback);
                    }
                }
                placement.auto.clone_from(&p.auto);
                (p.name.clone(), placement)
            })
            .collect();
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = map;
    }

    /// Says that program `name` runs natively because its runner cannot run it (`why`), or,
    /// with `None`, that it runs in its own runner again.
    pub fn fall_back(&self, name: &str, why: Option<String>) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(placement) = map.get_mut(name) {
            placement.runner = if why.is_some() { "native" } else { "docker" }.to_owned();
            placement.fallback = why;
        }
    }

    /// Says how nix program `name` runs in its dev shell now (`prepared`): its mode, and why
    /// it is wrapped.
    pub fn nix_mode(&self, name: &str, prepared: &tend_runner::NixPrepared) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(placement) = map.get_mut(name) {
            placement.mode = Some(prepared.mode.name().to_owned());
            placement.fallback = match &prepared.mode {
                tend_runner::NixMode::Wrapped { reason } => Some(reason.clone()),
                tend_runner::NixMode::Materialised => None,
            };
        }
    }

    /// Where program `name` runs; `native` if it is not known.
    pub fn get(&self, name: &str) -> Placement {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(name).cloned().unwrap_or_else(|| Placement::of("native"))
    }
}

/// The running server. Dropping it stops serving and removes the socket (and its pointer file).
#[derive(Debug, Default)]
pub struct ControlServer {
    task: Option<tokio::task::JoinHandle<()>>,
    /// Asks the server to finish the requests in progress and stop.
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Files to remove when it stops: the Unix socket and its pointer file.
    socket: Option<PathBuf>,
    pointer: Option<PathBuf>,
}

impl ControlServer {
    /// Whether it serves (it does unless its socket or pipe could not be created).
    pub fn is_serving(&self) -> bool {
        self.task.is_some()
    }

    /// Stops serving after the answers in progress are sent (so that `tend down` hears its
    /// answer), waiting at most one second (a `logs` follower would hold it forever), then
    /// removes the socket.
    pub async fn close(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.as_mut() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), task).await;
        }
    }

    /// Binds the app's socket (or pipe) and serves the control API on the current Tokio
    /// runtime. Never fails: when it cannot listen it logs a warning and returns a server that
    /// serves nothing.
    pub fn start(config: ServerConfig) -> ControlServer {
        let home = config.home.clone();
        let max = config.max_connections;
        crate::os::serve_control(&home, super::routes::router(config), max)
    }

    /// Serves `router` on `listener`, at most `max` connections at once, until
    /// [`close`](Self::close) or drop; `socket` (and `pointer`) are removed when it stops.
    pub(crate) fn serving<L>(
        listener: L,
        router: axum::Router,
        max: usize,
        socket: Option<PathBuf>,
        pointer: Option<PathBuf>,
    ) -> ControlServer
    where
        L: axum::serve::Listener,
        L::Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(super::accept::serve(listener, router, max, stop));
        ControlServer { task: Some(task), shutdown: Some(shutdown), socket, pointer }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        for path in [self.socket.take(), self.pointer.take()].into_iter().flatten() {
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("cannot remove {}: {e}", path.display());
            }
        }
    }
}
