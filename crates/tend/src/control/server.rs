//! The control API server of a running app: HTTP/JSON on the app's `tend.sock`
//! (`docs/control-api.md`).
//!
//! It never stops the app from running: when the socket cannot be bound, a warning is logged and
//! the app runs without it. Unix only for now; elsewhere [`ControlServer::start`] logs that the
//! API is not supported on this platform yet.

use std::path::PathBuf;

use tend_supervisor::Supervisor;
use tokio::sync::mpsc::UnboundedSender;

use crate::home::AppHome;

/// What the server needs from the running app.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The app's state folder (the socket and the logs are in it).
    pub home: AppHome,
    /// The app's programs.
    pub supervisor: Supervisor,
    /// How this start was classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
    /// Each program's runner (`native`…), by name.
    pub runners: Vec<(String, String)>,
    /// `POST /v1/stop` sends a reason here: the app stops as on SIGTERM.
    pub stop: UnboundedSender<&'static str>,
}

/// The running server. Dropping it stops serving and removes the socket (and its pointer file).
#[derive(Debug, Default)]
pub struct ControlServer {
    task: Option<tokio::task::JoinHandle<()>>,
    socket: Option<PathBuf>,
    pointer: Option<PathBuf>,
}

impl ControlServer {
    /// Where it listens, if it does.
    pub fn socket(&self) -> Option<&std::path::Path> {
        self.socket.as_deref()
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

#[cfg(not(unix))]
impl ControlServer {
    /// Would start the server; the control API is not supported on this platform yet.
    pub fn start(config: ServerConfig) -> ControlServer {
        let _ = config;
        tracing::info!(
            "the control API (tend status, restart, down) is not supported on this platform yet"
        );
        ControlServer::default()
    }
}

#[cfg(unix)]
mod unix {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::time::SystemTime;

    use axum::Json;
    use axum::Router;
    use axum::body::{Body, Bytes};
    use axum::extract::{Path, Query, State};
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use http_body_util::Channel;
    use serde::Deserialize;
    use tend_supervisor::{ProgramHandle, RestartReason, SupervisorError};

    use super::{ControlServer, ServerConfig};
    use crate::control::api::{self, ApiError, Status, Stopping};
    use crate::control::socket;
    use crate::logs_cmd::{FOLLOW_POLL, Follower, tail_lines};

    /// Default line count of `GET /v1/logs`.
    const DEFAULT_LINES: usize = 10;

    struct Shared {
        config: ServerConfig,
        pid: u32,
        started_at: String,
        runners: HashMap<String, String>,
    }

    type AppState = Arc<Shared>;

    impl ControlServer {
        /// Binds the app's socket and serves the control API on the current Tokio runtime.
        /// Never fails: when it cannot listen it logs a warning and returns a server that
        /// serves nothing.
        pub fn start(config: ServerConfig) -> ControlServer {
            let (path, pointer) = match socket::bind_path(&config.home) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!("no control API (tend status, restart, down): {e}");
                    return ControlServer::default();
                }
            };
            if path.exists() {
                if std::os::unix::net::UnixStream::connect(&path).is_ok() {
                    tracing::warn!(
                        "no control API: another tend answers on {}; stop it with `tend down`",
                        path.display()
                    );
                    return ControlServer::default();
                }
                // A stale socket from a tend that is gone.
                let _ = std::fs::remove_file(&path);
            }
            let listener = match tokio::net::UnixListener::bind(&path) {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!("no control API: cannot listen on {}: {e}", path.display());
                    return ControlServer::default();
                }
            };
            {
                use std::os::unix::fs::PermissionsExt as _;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            let mut server =
                ControlServer { task: None, socket: Some(path.clone()), pointer: None };
            if pointer {
                let file = socket::pointer_path(&config.home);
                if let Err(e) = tend_fs::write_text(&file, &path.to_string_lossy()) {
                    tracing::warn!("no control API: cannot write {}: {e}", file.display());
                    return server;
                }
                server.pointer = Some(file);
            }
            let shared = Arc::new(Shared {
                runners: config.runners.iter().cloned().collect(),
                config,
                pid: std::process::id(),
                started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            });
            let router = router(shared);
            tracing::debug!("control API on {}", path.display());
            server.task = Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::warn!("control API stopped: {e}");
                }
            }));
            server
        }
    }

    fn router(shared: AppState) -> Router {
        Router::new()
            .route("/v1/status", get(status))
            .route("/v1/restart", post(restart_all))
            .route("/v1/stop", post(stop_app))
            .route("/v1/programs/{name}/restart", post(restart_one))
            .route("/v1/programs/{name}/stop", post(stop_one))
            .route("/v1/programs/{name}/start", post(start_one))
            .route("/v1/logs", get(logs))
            .fallback(|| async {
                error(StatusCode::NOT_FOUND, "no such endpoint; see docs/control-api.md".into())
            })
            .with_state(shared)
    }

    fn error(code: StatusCode, message: String) -> Response {
        (code, Json(ApiError { error: message })).into_response()
    }

    impl Shared {
        fn status(&self) -> Status {
            let now = tokio::time::Instant::now();
            let programs = self
                .config
                .supervisor
                .snapshots()
                .iter()
                .map(|s| {
                    let runner = self.runners.get(&s.name).map_or("native", String::as_str);
                    api::program_status(s, now.saturating_duration_since(s.since), runner)
                })
                .collect();
            Status {
                app: self.config.home.app.clone(),
                pid: self.pid,
                started_at: self.started_at.clone(),
                startup_kind: self.config.startup_kind.clone(),
                programs,
            }
        }

        /// The program called `name`, or the 404 message.
        fn program(&self, name: &str) -> Result<ProgramHandle, String> {
            self.config.supervisor.program(name).ok_or_else(|| {
                let names: Vec<String> =
                    self.config.supervisor.programs().iter().map(|p| p.name().to_owned()).collect();
                api::no_such_program(name, &names)
            })
        }

        fn program_status(&self, handle: &ProgramHandle) -> Response {
            let snapshot = handle.snapshot();
            let runner = self.runners.get(&snapshot.name).map_or("native", String::as_str);
            let uptime = tokio::time::Instant::now().saturating_duration_since(snapshot.since);
            Json(api::program_status(&snapshot, uptime, runner)).into_response()
        }
    }

    fn gone(e: &SupervisorError) -> Response {
        error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }

    async fn status(State(shared): State<AppState>) -> Json<Status> {
        Json(shared.status())
    }

    async fn restart_one(State(shared): State<AppState>, Path(name): Path<String>) -> Response {
        let handle = match shared.program(&name) {
            Ok(handle) => handle,
            Err(message) => return error(StatusCode::NOT_FOUND, message),
        };
        tracing::info!("{name}: restart requested (control API)");
        match handle.restart(RestartReason::Requested).await {
            Ok(()) => shared.program_status(&handle),
            Err(e) => gone(&e),
        }
    }

    async fn stop_one(State(shared): State<AppState>, Path(name): Path<String>) -> Response {
        let handle = match shared.program(&name) {
            Ok(handle) => handle,
            Err(message) => return error(StatusCode::NOT_FOUND, message),
        };
        tracing::info!("{name}: stop requested (control API)");
        match handle.stop().await {
            Ok(()) => shared.program_status(&handle),
            Err(e) => gone(&e),
        }
    }

    async fn start_one(State(shared): State<AppState>, Path(name): Path<String>) -> Response {
        let handle = match shared.program(&name) {
            Ok(handle) => handle,
            Err(message) => return error(StatusCode::NOT_FOUND, message),
        };
        tracing::info!("{name}: start requested (control API)");
        match handle.start().await {
            Ok(()) => shared.program_status(&handle),
            Err(e) => gone(&e),
        }
    }

    async fn restart_all(State(shared): State<AppState>) -> Response {
        tracing::info!("restart of every program requested (control API)");
        // Every verb is queued at once, so the programs restart together.
        let pending: Vec<_> = shared
            .config
            .supervisor
            .programs()
            .iter()
            .map(|p| p.restart(RestartReason::Requested))
            .collect();
        for restart in pending {
            if let Err(e) = restart.await {
                return gone(&e);
            }
        }
        Json(shared.status()).into_response()
    }

    async fn stop_app(State(shared): State<AppState>) -> Response {
        if shared.config.stop.send("stop requested (tend down)").is_err() {
            return error(StatusCode::SERVICE_UNAVAILABLE, "the app is already stopping".into());
        }
        (StatusCode::ACCEPTED, Json(Stopping { stopping: true, pid: shared.pid })).into_response()
    }

    #[derive(Debug, Deserialize)]
    struct LogsQuery {
        program: Option<String>,
        n: Option<usize>,
        follow: Option<bool>,
    }

    async fn logs(State(shared): State<AppState>, Query(query): Query<LogsQuery>) -> Response {
        let names: Vec<String> = match &query.program {
            Some(name) => match shared.program(name) {
                Ok(_) => vec![name.clone()],
                Err(message) => return error(StatusCode::NOT_FOUND, message),
            },
            None => {
                shared.config.supervisor.programs().iter().map(|p| p.name().to_owned()).collect()
            }
        };
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let prefixed = query.program.is_none() && names.len() > 1;
        let home = &shared.config.home;
        let mut text = String::new();
        let mut followers = Vec::new();
        for name in &names {
            let prefix = if prefixed { format!("{name:<width$} | ") } else { String::new() };
            let path = home.program_log(name);
            for line in tail_lines(&path, query.n.unwrap_or(DEFAULT_LINES)).unwrap_or_default() {
                text.push_str(&prefix);
                text.push_str(&line);
                text.push('\n');
            }
            followers.push((prefix, Follower::at_end(path)));
        }
        let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        if query.follow != Some(true) {
            return (text_plain, text).into_response();
        }
        let (mut sender, body) = Channel::<Bytes, Infallible>::new(16);
        tokio::spawn(async move {
            if sender.send_data(Bytes::from(text)).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(FOLLOW_POLL).await;
                let mut chunk = String::new();
                for (prefix, follower) in &mut followers {
                    for line in follower.poll() {
                        chunk.push_str(prefix);
                        chunk.push_str(&line);
                        chunk.push('\n');
                    }
                }
                if !chunk.is_empty() && sender.send_data(Bytes::from(chunk)).await.is_err() {
                    return;
                }
            }
        });
        (text_plain, Body::new(body)).into_response()
    }
}
