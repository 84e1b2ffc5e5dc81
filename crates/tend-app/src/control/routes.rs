//! The routes of the control API (`docs/control-api.md`): status, program verbs, stop, app
//! restart, logs, events and in-flight work.

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

use super::server::ServerConfig;
use tend_api::{ApiError, InflightBegin, InflightDone, InflightList, Status, Stopping};

use crate::control::api;

/// Default line count of `GET /v1/logs`.
const DEFAULT_LINES: usize = 10;

struct Shared {
    config: ServerConfig,
    pid: u32,
    started_at: String,
}

type AppState = Arc<Shared>;

/// The routes of the control API, answering from `config`.
pub(super) fn router(config: ServerConfig) -> Router {
    let shared = Arc::new(Shared {
        config,
        pid: std::process::id(),
        started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
    });
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/restart", post(restart_all))
        .route("/v1/stop", post(stop_app))
        .route("/v1/app/restart", post(restart_app))
        .route("/v1/programs/{name}/restart", post(restart_one))
        .route("/v1/programs/{name}/stop", post(stop_one))
        .route("/v1/programs/{name}/start", post(start_one))
        .route("/v1/logs", get(logs))
        .route("/v1/events", get(events))
        .route("/v1/inflight", get(inflight_list).post(inflight_begin))
        .route("/v1/inflight/{id}", axum::routing::delete(inflight_done))
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
                let runner = self.config.runners.get(&s.name);
                let log = self.config.log_health.get(&s.name);
                api::program_status(s, now.saturating_duration_since(s.since), runner, log)
            })
            .collect();
        Status {
            app: self.config.home.app.clone(),
            pid: self.pid,
            started_at: self.started_at.clone(),
            startup_kind: self.config.startup_kind.clone(),
            programs,
            inflight: self.config.inflight.open(),
            interrupted: self.config.inflight.interrupted().to_vec(),
            update: self.config.update.get(),
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
        let runner = self.config.runners.get(&snapshot.name);
        let uptime = tokio::time::Instant::now().saturating_duration_since(snapshot.since);
        let log = self.config.log_health.get(&snapshot.name);
        Json(api::program_status(&snapshot, uptime, runner, log)).into_response()
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

/// The optional body of `POST /v1/app/restart`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppRestartBody {
    reason: Option<String>,
    context: Option<serde_json::Value>,
}

async fn restart_app(State(shared): State<AppState>, body: axum::body::Bytes) -> Response {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        AppRestartBody::default()
    } else {
        match serde_json::from_slice::<AppRestartBody>(&body) {
            Ok(body) => body,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("bad body: {e}; expected {{\"reason\": TEXT, \"context\": JSON}}"),
                );
            }
        }
    };
    let reason = body.reason.filter(|r| !r.trim().is_empty());
    let request = crate::lifecycle::restart::RestartRequest::new(
        reason.unwrap_or_else(|| "requested through the control API".into()),
        body.context,
    );
    if shared.config.restart_app.send(request).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the app is already stopping".into());
    }
    (StatusCode::ACCEPTED, Json(tend_api::Restarting { restarting: true, pid: shared.pid }))
        .into_response()
}

async fn inflight_list(State(shared): State<AppState>) -> Json<InflightList> {
    let inflight = &shared.config.inflight;
    Json(InflightList { inflight: inflight.open(), interrupted: inflight.interrupted().to_vec() })
}

fn inflight_error(e: &tend_api::inflight::InflightError) -> Response {
    let code = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error(code, crate::error::chain(e))
}

/// `POST /v1/inflight`: 201 with the item when it is new, 200 when it was open already.
async fn inflight_begin(State(shared): State<AppState>, body: Bytes) -> Response {
    // An object only: a derived struct would also take an array of its fields.
    let begin = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body)
        .and_then(|object| serde_json::from_value(serde_json::Value::Object(object)));
    let begin: InflightBegin = match begin {
        Ok(begin) => begin,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "bad body: {e}; expected {{\"id\": TEXT, \"label\": TEXT, \"program\": TEXT}}"
                ),
            );
        }
    };
    let state = shared.config.inflight.clone();
    // The journal is saved (fsync) under its lock: off the async threads.
    let result = tokio::task::spawn_blocking(move || {
        let now = SystemTime::now();
        state.begin(&begin.id, begin.label.as_deref(), begin.program.as_deref(), now)
    })
    .await;
    match result {
        Ok(Ok((item, true))) => {
            tracing::debug!("in flight: {}", item.id);
            (StatusCode::CREATED, Json(item)).into_response()
        }
        Ok(Ok((item, false))) => Json(item).into_response(),
        Ok(Err(e)) => inflight_error(&e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `DELETE /v1/inflight/{id}`: 200 `{"id", "removed"}`, also for an ID that is not open.
async fn inflight_done(State(shared): State<AppState>, Path(id): Path<String>) -> Response {
    let state = shared.config.inflight.clone();
    let result = tokio::task::spawn_blocking({
        let id = id.clone();
        move || state.done(&id)
    })
    .await;
    match result {
        Ok(Ok(removed)) => {
            tracing::debug!("in flight: {id} done");
            Json(InflightDone { id, removed: removed.is_some() }).into_response()
        }
        Ok(Err(e)) => inflight_error(&e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /v1/events`: every event from now on, one JSON object per line, until the app stops;
/// a follower that falls behind is told how many it missed (`lagged`).
async fn events(State(shared): State<AppState>) -> Response {
    let mut events = shared.config.events.follow();
    let (mut sender, body) = Channel::<Bytes, Infallible>::new(16);
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tend_api::AppEvent {
                        at: crate::control::events::now(),
                        kind: "lagged".into(),
                        program: None,
                        message: format!("{missed} event(s) missed: this follower fell behind"),
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Ok(mut line) = serde_json::to_vec(&event) else { continue };
            line.push(b'\n');
            if sender.send_data(Bytes::from(line)).await.is_err() {
                return;
            }
        }
    });
    ([(header::CONTENT_TYPE, "application/x-ndjson")], Body::new(body)).into_response()
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
        None => shared.config.supervisor.programs().iter().map(|p| p.name().to_owned()).collect(),
    };
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let prefixed = query.program.is_none() && names.len() > 1;
    let home = &shared.config.home;
    let mut text = String::new();
    let mut tail = crate::tail::Tail::new();
    for name in &names {
        let prefix = if prefixed { format!("{name:<width$} | ") } else { String::new() };
        let path = home.program_log(name);
        let lines = tail.add(prefix.clone(), path, query.n.unwrap_or(DEFAULT_LINES));
        for line in lines.unwrap_or_default() {
            text.push_str(&prefix);
            text.push_str(&line);
            text.push('\n');
        }
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
            let mut chunk = String::new();
            for (prefix, line) in tail.next().await {
                chunk.push_str(prefix);
                chunk.push_str(&line);
                chunk.push('\n');
            }
            if sender.send_data(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
    });
    (text_plain, Body::new(body)).into_response()
}
